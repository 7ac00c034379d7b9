"""Causal video VAE: chunked, streamed and clip-by-clip decode equal one-shot, causality, tiling, input checks,
the released key table, and checkpoints that do not fit."""

from __future__ import annotations

import math
import re
import weakref
from pathlib import Path

import pytest
import torch
from reference import VAE_KEYS
from safetensors.torch import save_file

from engine.config import VAEConfig, get_preset
from engine.model.vae import (
    Tiling,
    VAECheckpointError,
    VAEInputError,
    VideoVAE,
    decoder_history,
    load_vae_state,
    vae_key_shapes,
    vae_key_table,
)
from engine.runtime.decode_plan import session_cache_bytes

TINY = VAEConfig(block_out_channels=(8, 16, 32, 32, 32))


@pytest.fixture(scope="module")
def vae() -> VideoVAE:
    torch.manual_seed(0)
    model = VideoVAE(TINY).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma"):
                p.uniform_(0.5, 1.5)
        model.scale_learnable_parameters.copy_(torch.tensor([1.25, 1.0, 1.0, 1.0]))
    return model


def video(frames: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, frames, size, size, generator=g) * 2 - 1


def latent(frames: int, size: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 64, frames, size, size, generator=g)


def test_shapes(vae: VideoVAE) -> None:
    z = vae.encode(video(9, 48))
    assert z.shape == (1, 64, 3, 3, 3)
    assert vae.decode(latent(3, 3)).shape == (1, 3, 9, 48, 48)


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_streamed_decode_equals_one_shot(vae: VideoVAE, chunk: int) -> None:
    z = latent(6)
    one_shot = vae.decode(z, chunk_latents=None)
    pieces = list(vae.decode_stream(z, chunk_latents=chunk))
    assert [p.shape[2] for p in pieces][0] == 1
    assert all(p.shape[2] <= 4 * chunk for p in pieces[1:])
    streamed = torch.cat(pieces, dim=2)
    assert streamed.shape == one_shot.shape == (1, 3, 21, 32, 32)
    assert (streamed - one_shot).abs().max() < 1e-5


def test_stream_yields_separate_chunks_before_reading_later_latents(vae: VideoVAE) -> None:
    z = latent(4)
    z[:, :, 3] = float("nan")
    stream = vae.decode_stream(z, chunk_latents=2)
    first, second = next(stream), next(stream)
    assert torch.isfinite(first).all() and torch.isfinite(second).all()
    # each chunk owns its storage: nothing accumulates into a whole-video buffer
    assert second.untyped_storage().nbytes() == second.numel() * second.element_size()
    assert torch.isnan(next(stream)).all()


@pytest.mark.parametrize("chunk", [4, 8, 12])
def test_chunked_encode_equals_one_shot(vae: VideoVAE, chunk: int) -> None:
    x = video(25)
    one_shot = vae.encode(x, chunk_frames=None)
    assert one_shot.shape == (1, 64, 7, 2, 2)
    assert (vae.encode(x, chunk_frames=chunk) - one_shot).abs().max() < 1e-5


def test_decoder_is_causal(vae: VideoVAE) -> None:
    z = latent(4)
    base = vae.decode(z, chunk_latents=None)
    changed = z.clone()
    changed[:, :, 2] += 1.0
    out = vae.decode(changed, chunk_latents=None)
    # latent frame k >= 1 becomes video frames 4k-3 .. 4k, so frames before 5 must be untouched
    assert torch.equal(out[:, :, :5], base[:, :, :5])
    assert not torch.allclose(out[:, :, 5], base[:, :, 5])


@pytest.mark.parametrize("k", [1, 5, 9])
def test_changing_frame_k_leaves_earlier_frames_alone(vae: VideoVAE, k: int) -> None:
    x = video(13)
    base_latent = vae.encode(x)
    base = vae.decode(base_latent)
    changed = x.clone()
    changed[:, :, k] = -changed[:, :, k]
    new_latent = vae.encode(changed)
    out = vae.decode(new_latent)
    first_latent = (k + 3) // 4  # frame k starts latent frame (k + 3) // 4
    assert torch.equal(new_latent[:, :, :first_latent], base_latent[:, :, :first_latent])
    assert torch.equal(out[:, :, :k], base[:, :, :k])
    assert not torch.allclose(out[:, :, k], base[:, :, k])


def test_encode_mean_by_default_and_sampling_on_request(vae: VideoVAE) -> None:
    x = video(5)
    mean = vae.encode(x)
    assert torch.equal(vae.encode(x), mean)
    a = vae.encode(x, sample=True, generator=torch.Generator().manual_seed(1))
    b = vae.encode(x, sample=True, generator=torch.Generator().manual_seed(1))
    c = vae.encode(x, sample=True, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b)
    assert not torch.allclose(a, mean) and not torch.allclose(a, c)


def test_tiling(vae: VideoVAE) -> None:
    z = latent(2, 8)
    one_shot = vae.decode(z, chunk_latents=None)
    assert torch.equal(vae.decode(z, chunk_latents=None, tiling=Tiling(tile=8, overlap=2)), one_shot)
    tiled = vae.decode(z, chunk_latents=None, tiling=Tiling(tile=4, overlap=2))
    streamed = torch.cat(list(vae.decode_stream(z, chunk_latents=1, tiling=Tiling(tile=4, overlap=2))), dim=2)
    assert (streamed - tiled).abs().max() < 1e-5
    seams = vae.decode(z, chunk_latents=None, tiling=Tiling(tile=4, overlap=0))
    err, seam_err = (tiled - one_shot).abs().mean(), (seams - one_shot).abs().mean()
    assert err < 0.1 * one_shot.abs().mean()
    assert err < seam_err
    x = video(5, 64)
    assert torch.equal(vae.encode(x, tiling=Tiling(tile=4, overlap=1)), vae.encode(x))


@pytest.mark.parametrize(
    "shape",
    [(1, 4, 5, 32, 32), (1, 3, 4, 32, 32), (1, 3, 6, 32, 32), (1, 3, 5, 40, 32), (3, 5, 32, 32)],
)
def test_bad_video_is_rejected_naming_the_expected_shape(vae: VideoVAE, shape: tuple[int, ...]) -> None:
    with pytest.raises(VAEInputError, match=r"expected \[B, 3, 1 \+ 4k, H, W\] with H and W multiples of 16"):
        vae.encode(torch.zeros(shape))


@pytest.mark.parametrize("shape", [(1, 16, 2, 2, 2), (64, 2, 2, 2)])
def test_bad_latent_is_rejected_naming_the_expected_shape(vae: VideoVAE, shape: tuple[int, ...]) -> None:
    with pytest.raises(VAEInputError, match=r"expected \[B, 64, T, H, W\]"):
        vae.decode(torch.zeros(shape))


def test_encode_chunk_must_fit_the_time_factor(vae: VideoVAE) -> None:
    with pytest.raises(VAEInputError, match="multiple of 4"):
        vae.encode(video(9), chunk_frames=6)


def _release_table() -> list[tuple[str, tuple[int, ...], str]]:
    rows = []
    for line in VAE_KEYS.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key, shape, dtype = line.split("\t")
        rows.append((key, tuple(int(n) for n in shape.strip(",").split(",")), dtype))
    return rows


@pytest.mark.skipif(not VAE_KEYS.is_file(), reason="shared reference key table not present")
def test_released_widths_match_the_checkpoint_key_table() -> None:
    ours = vae_key_table(VAEConfig())
    assert ours == _release_table()
    assert len(ours) == 301
    # the table's figure counts every element, the 160 int64 mask entries included
    assert sum(torch.Size(shape).numel() for _, shape, _ in ours) == 184_659_543
    assert sum(torch.Size(shape).numel() for _, shape, dtype in ours if dtype == "float32") == 184_659_383
    assert {k for k, _, dtype in ours if dtype == "int64"} == {
        "quantizer.lfq_semantic.mask",
        "quantizer.lfq_detail.mask",
        "quantize.lfq_semantic.mask",
        "quantize.lfq_detail.mask",
    }
    assert vae_key_shapes(VAEConfig()) == [(k, s) for k, s, _ in ours]


def decode_in_pieces(vae: VideoVAE, z: torch.Tensor, pieces: tuple[int, ...], **session) -> list[torch.Tensor]:
    """Feed `z` to one decoder session piece by piece; the frames each piece decodes to."""
    decoder = vae.decoder_session(**session)
    starts = [sum(pieces[:i]) for i in range(len(pieces))]
    return [
        torch.cat(list(decoder.feed(z[:, :, start : start + t], last=i == len(pieces) - 1)), dim=2)
        for i, (start, t) in enumerate(zip(starts, pieces, strict=True))
    ]


@pytest.mark.parametrize("chunk", [1, 2, None])
@pytest.mark.parametrize("pieces", [(1, 5), (1, 2, 3), (3, 3)])
def test_session_fed_clip_by_clip_equals_one_shot(vae: VideoVAE, pieces: tuple[int, ...], chunk: int | None) -> None:
    z = latent(6)
    one_shot = vae.decode(z, chunk_latents=None)
    decoded = decode_in_pieces(vae, z, pieces, chunk_latents=chunk)
    # latent frame 0 decodes to one video frame, every later latent frame to four
    assert [d.shape[2] for d in decoded] == [1 + 4 * (pieces[0] - 1)] + [4 * t for t in pieces[1:]]
    assert (torch.cat(decoded, dim=2) - one_shot).abs().max() < 1e-5


def test_tiled_session_equals_tiled_one_shot(vae: VideoVAE) -> None:
    z, tiling = latent(4, 8), Tiling(tile=4, overlap=2)
    one_shot = vae.decode(z, chunk_latents=None, tiling=tiling)
    decoded = decode_in_pieces(vae, z, (1, 1, 2), chunk_latents=1, tiling=tiling)
    assert (torch.cat(decoded, dim=2) - one_shot).abs().max() < 1e-5


def test_session_holds_only_the_conv_caches_between_pieces(vae: VideoVAE) -> None:
    z = latent(3, 3)
    session = vae.decoder_session(chunk_latents=1)
    piece = z[:, :, :2].clone()
    frames = list(session.feed(piece))
    piece_alive, frames_alive = weakref.ref(piece), [weakref.ref(f) for f in frames]
    del piece, frames
    assert piece_alive() is None and all(f() is None for f in frames_alive)
    # exactly what the decode plan says the caches weigh
    assert session.held_bytes == session_cache_bytes(TINY, 3, 3, 4) > 0
    list(session.feed(z[:, :, 2:], last=True))
    assert session.held_bytes == 0


def test_session_refuses_a_piece_that_cannot_follow(vae: VideoVAE) -> None:
    session = vae.decoder_session()
    list(session.feed(latent(2)))
    with pytest.raises(VAEInputError, match=r"shape \(1, 64, 2, 3, 3\); this session decodes \[1, 64, T, 2, 2\]"):
        next(session.feed(latent(2, 3)))
    unread = session.feed(latent(4))
    next(unread)
    with pytest.raises(VAEInputError, match="previous piece were not all read"):
        next(session.feed(latent(1)))
    ended = vae.decoder_session()
    list(ended.feed(latent(2), last=True))
    with pytest.raises(VAEInputError, match="session has ended"):
        next(ended.feed(latent(1)))
    with pytest.raises(VAEInputError, match="chunk_latents must be positive"):
        vae.decoder_session(chunk_latents=0)


def _own_tensors(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # the checkpoint stores the quantizer under two names; safetensors wants every tensor in its own storage
    return {k: v.clone() for k, v in state.items()}


def test_state_dict_round_trip(vae: VideoVAE, tmp_path: Path) -> None:
    z = latent(2)
    assert torch.equal(VideoVAE.from_state_dict(TINY, vae.state_dict()).decode(z), vae.decode(z))
    save_file(_own_tensors(vae.state_dict()), tmp_path / "vae.safetensors")
    torch.save({"vae": vae.state_dict()}, tmp_path / "vae.pth")
    for name in ("vae.safetensors", "vae.pth"):
        assert torch.equal(VideoVAE.from_file(TINY, tmp_path / name).decode(z), vae.decode(z))


def mismatched_state(vae: VideoVAE) -> dict[str, torch.Tensor]:
    state = _own_tensors(vae.state_dict())
    del state["decoder.conv_out.conv.bias"]
    state["decoder.conv_extra.weight"] = torch.zeros(2)
    state["proj_up.weight"] = torch.zeros(64, 32)
    return state


MISMATCH = (
    "does not fit this VAE config: 1 missing: decoder.conv_out.conv.bias; 1 unexpected: decoder.conv_extra.weight; "
    "1 mis-shaped: proj_up.weight is 64x32, not 64x64"
)


def test_a_mismatched_state_dict_names_every_missing_unexpected_and_misshaped_tensor(vae: VideoVAE) -> None:
    with pytest.raises(VAECheckpointError) as err:
        VideoVAE.from_state_dict(TINY, mismatched_state(vae))
    assert str(err.value) == f"the VAE state dict {MISMATCH}"


def test_a_mismatched_file_is_named_with_its_tensors(vae: VideoVAE, tmp_path: Path) -> None:
    path = tmp_path / "vae.safetensors"
    save_file(mismatched_state(vae), path)
    with pytest.raises(VAECheckpointError) as err:
        VideoVAE.from_file(TINY, path)
    assert str(err.value) == f"{path} {MISMATCH}"


def test_a_released_size_checkpoint_for_a_tiny_config_names_a_few_tensors_and_counts_the_rest() -> None:
    with torch.device("meta"):
        released = VideoVAE(VAEConfig()).state_dict()
    with pytest.raises(VAECheckpointError) as err:
        VideoVAE.from_state_dict(TINY, released)
    message = str(err.value)
    assert "286 mis-shaped: encoder.conv_in.conv.weight is 96x3x3x3x3, not 8x3x3x3x3, " in message
    assert message.endswith(" and 278 more") and message.count(" is ") == 8


def test_a_truncated_checkpoint_is_named(vae: VideoVAE, tmp_path: Path) -> None:
    save_file(_own_tensors(vae.state_dict()), tmp_path / "vae.safetensors")
    torch.save({"vae": vae.state_dict()}, tmp_path / "vae.pth")
    for name, kind in (("vae.safetensors", "safetensors file"), ("vae.pth", "torch checkpoint")):
        path = tmp_path / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        with pytest.raises(VAECheckpointError, match=f"^{re.escape(str(path))} is not a readable {kind}: "):
            VideoVAE.from_file(TINY, path)
    with pytest.raises(VAECheckpointError, match="absent.pth does not exist"):
        load_vae_state(tmp_path / "absent.pth")


@pytest.mark.parametrize(
    ("content", "described"),
    [
        (lambda state: state, r"a dict with keys \['decoder.conv_in.conv.bias', "),
        (lambda state: {"ema": state}, r"a dict with keys \['ema'\]"),
        (lambda state: {"vae": {"step": 3}}, r"a dict with keys \['vae'\]"),
        (lambda state: [state], "a list"),
    ],
)
def test_a_pth_not_holding_a_vae_state_dict_is_refused(vae: VideoVAE, tmp_path: Path, content, described) -> None:
    path = tmp_path / "vae.pth"
    torch.save(content(vae.state_dict()), path)
    with pytest.raises(VAECheckpointError, match=f"^{re.escape(str(path))} holds {described}.*; the released VAE "):
        load_vae_state(path)


def test_a_session_fed_the_decoders_history_decodes_what_follows_as_the_whole_video_does() -> None:
    """A continuation warms a fresh decode session with the last clips before its first new one: fed at least
    decoder_history latent frames first, the frames after them equal the whole video's decode; fed fewer, not."""
    cfg = get_preset("toyworld").vae
    torch.manual_seed(1)
    model = VideoVAE(cfg).eval()
    history = decoder_history(cfg)
    assert history == 21.5  # conv_in 2, mid 4, then 4 + 2 per up block at 1, 1, 1/2, 1/4 of the frame rate
    g = torch.Generator().manual_seed(2)
    z = torch.randn(1, cfg.codebook_dim, 40, 2, 2, generator=g)
    whole = torch.cat(list(model.decoder_session(1, None).feed(z, last=True)), dim=2)
    new = 8  # latent frames after the warm-up

    def after_warm_up(frames: int) -> torch.Tensor:
        session = model.decoder_session(1, None)
        decoded = torch.cat(list(session.feed(z[:, :, 40 - new - frames :], last=True)), dim=2)
        return decoded[:, :, -4 * new :]

    exact = math.ceil(history)
    assert (after_warm_up(exact) - whole[:, :, -4 * new :]).abs().max() < 1e-6
    # the influence of the frames further back fades fast, but it is there
    assert (after_warm_up(exact - 4) - whole[:, :, -4 * new :]).abs().max() > 1e-5
