"""The pieces toyworld training is made of, each against an independent computation or a property."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.config import get_preset
from engine.model.bsq import area_downsample_channels, quantize_multiscale, quantize_tokens, residual_passes
from engine.model.running_sum import RunningSums
from engine.model.vae import VideoVAE
from engine.schedule import build_schedule
from engine.tensors.safetensors_file import save_safetensors
from engine.text.errors import PromptError, TextEncoderError
from engine.text.words import WordTextEncoder, read_vocabulary
from engine.train.toyworld.palette import OBJECT_COLOURS
from engine.train.toyworld.world import EVAL_SEED_START, TRAIN_SEEDS, sample_batch, sample_video
from engine.train.vae_train import (
    held_out_psnr,
    psnr,
    psnr_summary,
    reconstruction_loss,
    through_tokenizer,
    to_video,
    training_clips,
)

TOY = get_preset("toyworld")
PX = TOY.vae.pixels_per_token  # a latent cell is PX x PX pixels
GRID = 64 // PX  # latent cells along a side of a 64 px frame


def _latent(seconds: int, seed: int = 0) -> tuple[torch.Tensor, object]:
    schedule = build_schedule(TOY.schedule, seconds, "1:1")
    t, h, w = schedule.latent_shape
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, TOY.vae.codebook_dim, t, h, w, generator=g) * 0.3, schedule


def test_without_corruption_the_passes_are_the_tokenizers_bits() -> None:
    latent, schedule = _latent(2)
    plain = quantize_multiscale(latent, schedule, TOY.vae.semantic_bits, TOY.vae.detail_bits)
    pairs = list(residual_passes(latent, schedule, TOY.vae.semantic_bits, TOY.vae.detail_bits, lambda b: b))
    assert all(torch.equal(a, t) and torch.equal(t, i) for a, (t, i) in zip(plain, pairs, strict=True))


def test_self_corrected_targets_quantise_what_the_corrupted_running_sum_leaves() -> None:
    latent, schedule = _latent(1)
    g = torch.Generator().manual_seed(3)

    def flip(bits: torch.Tensor) -> torch.Tensor:
        return bits ^ (torch.rand(bits.shape, generator=g) < 0.3).to(bits.dtype)

    pairs = list(residual_passes(latent, schedule, TOY.vae.semantic_bits, TOY.vae.detail_bits, flip))
    sums = RunningSums(schedule, TOY.vae.codebook_dim, "cpu", batch=2)
    starts = [0, *torch.tensor(schedule.clip_lengths).cumsum(0).tolist()]
    changed = 0
    for p, (target, used) in zip(schedule.passes, pairs, strict=True):
        clip = latent[:, :, starts[p.clip] : starts[p.clip + 1]]
        bits = TOY.vae.semantic_bits if p.semantic else TOY.vae.detail_bits
        residual = area_downsample_channels(clip - sums.clip_latent(p.clip), bits, p.h, p.w)
        assert torch.equal(target, quantize_tokens(residual)[1]), p.index
        changed += int(not torch.equal(target, used))
        sums.add(p, used)
    assert changed == len(schedule.passes)


def test_the_training_paths_of_the_vae_equal_its_inference_paths() -> None:
    torch.manual_seed(0)
    vae = VideoVAE(TOY.vae).eval()
    video = torch.rand(1, 3, 9, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(vae.training_latent(video), vae.encode(video, chunk_frames=None), atol=1e-6)
        latent = vae.encode(video)
        assert torch.allclose(vae.training_decode(latent), vae.decode(latent, chunk_latents=None), atol=1e-6)


@pytest.fixture
def words() -> WordTextEncoder:
    torch.manual_seed(0)
    return WordTextEncoder(["a", "red", "circle", "moves", "left", "on", "blue"], 16, 6).eval()


def test_every_prompt_encodes_to_the_same_length_and_unknown_words_are_reported(words: WordTextEncoder) -> None:
    assert words.encode("A red circle!").shape == (6, 16)
    assert words.encode("a red circle moves left on blue").shape == (6, 16)
    assert words.unknown_words("a purple circle flies, purple") == ["purple", "flies"]
    assert words.dropped_tokens("a red circle moves left on blue") == 2
    with pytest.raises(PromptError, match="none of the words of 'zebra' are known"):
        words.encode("zebra")


def test_padding_does_not_change_what_the_words_encode_to(words: WordTextEncoder) -> None:
    ids = torch.tensor([words.token_ids("red circle")])
    full = words(ids)[0]
    # an independent run over the real tokens only (no padding at all) gives the same word features
    short = words.norm(words.encoder(words.words(ids[:, :3]) + words.positions[:3]))[0]
    assert torch.allclose(full[:3], short, atol=1e-5)


def test_the_word_encoder_round_trips_through_one_file(words: WordTextEncoder, tmp_path: Path) -> None:
    words.save(tmp_path / "text.safetensors")
    again = WordTextEncoder.from_file(tmp_path / "text.safetensors")
    assert again.vocab == words.vocab
    assert torch.equal(again.encode("red circle moves"), words.encode("red circle moves"))
    # the same weights make the same file, so an export's sha256 changes only when the encoder does
    words.save(tmp_path / "twice.safetensors")
    assert (tmp_path / "twice.safetensors").read_bytes() == (tmp_path / "text.safetensors").read_bytes()


def unreadable(path: Path, what_is_wrong: str) -> str:
    return (
        f"{path} cannot be used as a word text encoder: the word list and sizes stored in it cannot be read "
        f"({what_is_wrong}). Other models are not affected; to use this one, remove it and install it again, or "
        "export it again from its training run"
    )


@pytest.mark.parametrize(
    ("stored", "what_is_wrong"),
    [
        ({"format": "pt"}, "'word_text_encoder' is missing"),
        ({"word_text_encoder": "{vocab: [red]"}, "it is not JSON: Expecting property name enclosed in double quotes "
                                                 "(line 1, column 2)"),
        ({"word_text_encoder": "[1, 2]"}, "it is not a JSON object"),
        ({"word_text_encoder": '{"channels": 16}'}, "'vocab' is missing"),
    ],
    ids=["another file", "not JSON", "not an object", "no word list"],
)
def test_an_encoder_whose_word_list_cannot_be_read_says_what_still_works_and_what_to_do(
    words: WordTextEncoder, tmp_path: Path, stored: dict[str, str], what_is_wrong: str
) -> None:
    path = tmp_path / "other.safetensors"
    save_safetensors(words.state_dict(), path, metadata=stored)
    for read in (WordTextEncoder.from_file, read_vocabulary):
        with pytest.raises(TextEncoderError) as refused:
            read(path)
        assert str(refused.value) == unreadable(path, what_is_wrong), read


def test_the_bit_loss_averages_over_bits_or_weighs_every_pass_the_same() -> None:
    """A 1-token pass with every bit wrong and a 64-token pass with every bit right: over bits the small pass all
    but vanishes, with weigh_passes the loss is the two passes' plain mean; the accuracy counts bits either way."""
    import math

    from engine.train.transformer_train import bit_loss

    confident = torch.tensor([0.0, math.log(9.0)])  # logits for (0, 1): p(1) = 0.9
    logits = [confident.expand(1, 1, 8, 2).clone(), confident.expand(1, 64, 8, 2).clone()]
    targets = [torch.zeros(1, 1, 8), torch.ones(1, 64, 8)]
    wrong, right = -math.log(0.1), -math.log(0.9)
    over_bits, accuracy = bit_loss(logits, targets)
    assert over_bits.item() == pytest.approx((wrong + 64 * right) / 65, rel=1e-5)
    assert accuracy == pytest.approx(64 / 65)
    per_pass, _ = bit_loss(logits, targets, weigh_passes=True)
    assert per_pass.item() == pytest.approx((wrong + right) / 2, rel=1e-5)


def test_a_few_steps_on_one_batch_lower_the_bit_loss() -> None:
    from engine.train.transformer_train import LatentPool, Toyworld, step_loss

    torch.manual_seed(0)
    model, vae = Toyworld(), VideoVAE(TOY.vae).eval()
    pool = LatentPool.encode(vae, [1, 2], 1, 64)
    assert pool.latents.shape == (2, TOY.vae.codebook_dim, 5, GRID, GRID) and [len(c) for c in pool.prompts] == [1, 1]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(6):
        loss, _ = step_loss(model, pool.latents, pool.prompts, 1, torch.Generator().manual_seed(0), 0.0, 0.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.02


def test_a_storyboard_pool_keeps_a_caption_per_clip_and_some_motions_change() -> None:
    from engine.train.toyworld.world import sample_video
    from engine.train.transformer_train import LatentPool

    vae = VideoVAE(TOY.vae).eval()
    seeds = list(range(12))
    boards = LatentPool.encode(vae, seeds, 2, 64, storyboards=True).prompts
    plain = LatentPool.encode(vae, seeds, 2, 64).prompts
    videos = [sample_video(seed, 2, 64, change_motion=True) for seed in seeds]
    assert boards == [v.captions for v in videos] and all(len(c) == 3 and c[0] == c[1] for c in boards)
    changed = [v.truth[1].objects[0].motion != v.truth[2].objects[0].motion for v in videos]
    assert 0 < sum(changed) < len(seeds)
    assert all(len(c) == 1 for c in plain)


def test_each_clip_gets_its_own_caption_and_a_dropped_video_loses_all_of_them() -> None:
    from engine.train.transformer_train import Toyworld, texts

    model = Toyworld().eval()
    prompts = [["a red circle", "a red circle", "a red circle moves left"], ["a blue star"] * 3]
    kept = texts(model, prompts, torch.Generator().manual_seed(0), dropout=0.0)
    assert len(kept) == 3 and all(t.shape[:2] == (2, TOY.transformer.text_maxlen) for t in kept)
    assert torch.equal(kept[0], kept[1]) and not torch.equal(kept[1][0], kept[2][0])
    assert torch.equal(kept[1][1], kept[2][1])
    dropped = texts(model, prompts, torch.Generator().manual_seed(0), dropout=1.0)
    uncond = model.transformer.cfg_uncond[: TOY.transformer.text_maxlen]
    assert all(torch.equal(t[i], uncond) for t in dropped for i in range(2))


def test_the_planner_counts_the_toyworld_word_encoder_as_built() -> None:
    from engine.runtime.planner import TEXT_ENCODER_PARAMS
    from engine.train.toyworld.captions import vocabulary

    cfg = TOY.transformer
    encoder = WordTextEncoder(vocabulary(), cfg.text_channels, cfg.text_maxlen)
    assert sum(p.numel() for p in encoder.parameters()) == TEXT_ENCODER_PARAMS["toyworld-words"]


def test_a_pass_weighted_twice_counts_as_two_copies_of_it_in_the_bit_loss() -> None:
    from engine.train.transformer_train import bit_loss

    g = torch.Generator().manual_seed(3)
    logits = [torch.randn(1, n, 8, 2, generator=g) for n in (4, 16)]
    targets = [torch.randint(0, 2, (1, n, 8), generator=g) for n in (4, 16)]
    for weigh_passes in (False, True):
        copied, _ = bit_loss([logits[0], logits[1], logits[1]], [targets[0], targets[1], targets[1]], weigh_passes)
        weighted, _ = bit_loss(logits, targets, weigh_passes, weights=[1.0, 2.0])
        assert weighted.item() == pytest.approx(copied.item(), rel=1e-6)


def test_a_step_trains_every_pass_but_one_earlier_finest_repetition_stands_in_for_its_clip() -> None:
    """At the toyworld preset a clip's finest scale has three repetitions; the first two are seen by no other pass.
    A step keeps every other pass once and one of those two, weighted 2; over steps both are drawn."""
    from engine.train.transformer_train import sampled_passes

    schedule = build_schedule(TOY.schedule, 2, "1:1")
    g = torch.Generator().manual_seed(0)
    drawn = set()
    for _ in range(20):
        passes, weights = sampled_passes(schedule, g)
        assert len(passes) == len(set(passes)) == len(weights)
        for clip in range(schedule.clips):
            own = schedule.clip_passes(clip)
            finest = [p.index for p in own if p.h == own[-1].h]
            assert len(finest) == 3
            stand_ins = [i for i in passes if i in finest[:2]]
            assert len(stand_ins) == 1 and weights[passes.index(stand_ins[0])] == 2.0
            drawn.add(stand_ins[0])
            rest = [p.index for p in own if p.index not in finest[:2]]
            assert all(i in passes and weights[passes.index(i)] == 1.0 for i in rest)
    assert len(drawn) == 2 * schedule.clips


def test_object_weights_cover_the_drawn_objects_and_leave_the_background_at_one() -> None:
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    video, weights = training_clips(rng, 6, 64, images=True, object_weight=9.0)
    rng.bit_generator.state = state
    seeds = rng.integers(0, len(TRAIN_SEEDS), 6).tolist()
    pixels = ((video[:, :, 0] + 1) * 127.5).round().permute(0, 2, 3, 1).numpy()  # [B, H, W, 3]
    assert set(weights.unique().tolist()) == {1.0, 10.0}
    for frame, weight, seed in zip(pixels, weights[:, 0, 0].numpy(), seeds, strict=True):
        truth = sample_video(seed, 1, 64).truth[0]
        own = np.array([OBJECT_COLOURS[o.colour] for o in truth.objects], np.float32)
        nearest = np.linalg.norm(frame[:, :, None] - own, axis=-1).min(axis=-1)
        weighted = weight > 1
        # anti-aliased edges blend into the background (a star is mostly edge at 64 px): the object's own colour
        # is asked of a part of the weighted pixels only, and of none outside them
        assert weighted.sum() > 20 and (nearest[weighted] < 8).mean() > 0.4
        assert (nearest[~weighted] < 8).sum() == 0


def test_the_reconstruction_loss_is_l1_plus_l2_weighted_per_pixel() -> None:
    g = torch.Generator().manual_seed(0)
    video = torch.rand(2, 3, 1, 4, 4, generator=g)
    decoded = torch.rand(2, 3, 1, 4, 4, generator=g)
    ones = torch.ones(2, 1, 1, 4, 4)
    assert torch.allclose(reconstruction_loss(decoded, video, ones),
                          torch.nn.functional.l1_loss(decoded, video) + torch.nn.functional.mse_loss(decoded, video))
    weights = ones.clone()
    weights[0, 0, 0, 1, 2] = 4.0  # one pixel counts as four
    error = (decoded - video).abs() + (decoded - video).square()
    by_hand = (error.sum() + 3 * error[0, :, 0, 1, 2].sum()) / (3 * (32 + 3))
    assert torch.allclose(reconstruction_loss(decoded, video, weights), by_hand)


def test_held_out_psnr_in_chunks_is_the_psnr_of_all_the_clips_at_once() -> None:
    torch.manual_seed(0)
    vae = VideoVAE(TOY.vae).eval()
    video = to_video(sample_batch(list(range(EVAL_SEED_START, EVAL_SEED_START + 5)), 1, 64).frames)
    at_once = psnr(through_tokenizer(vae, video, build_schedule(TOY.schedule, 1, "1:1")), video)
    assert held_out_psnr(vae, TOY, 5, 64, chunk=2) == pytest.approx(at_once, abs=1e-4)
    assert held_out_psnr(vae, TOY, 2, 64) != pytest.approx(at_once, abs=1e-3)  # other clips, another figure


def test_the_mean_of_clip_psnrs_is_never_below_the_psnr_of_their_pooled_error() -> None:
    errors = np.array([4e-4, 4e-3, 4e-2])  # 40, 30 and 20 dB
    both = psnr_summary(errors)
    assert both["mean"] == pytest.approx(30.0)
    assert both["pooled"] == pytest.approx(10 * np.log10(4 / errors.mean()))
    assert both["pooled"] < both["mean"]
    assert psnr_summary(np.full(4, 4e-3)) == pytest.approx({"pooled": 30.0, "mean": 30.0})


def test_object_shares_are_each_latent_cells_share_of_drawn_pixels() -> None:
    """Frame 0 is a latent frame of its own, then every 4 frames fold into one, and a latent cell is PX x PX pixels
    (the toyworld VAE's strides): the shares equal a plain count over those blocks."""
    from engine.train.transformer_train import object_shares

    rng = np.random.default_rng(0)
    mask = rng.random((2, 17, 64, 64)) < 0.1
    mask[0, 5:9, PX : 2 * PX, 3 * PX : 4 * PX] = True  # latent frame 2, row 1, column 3 full
    shares = object_shares(mask, 5, GRID, GRID)
    assert shares.shape == (2, 5, GRID, GRID) and shares[0, 2, 1, 3] == 1.0
    for b, t, y, x in [(0, 0, 0, 0), (1, 0, 3, 2), (1, 1, 2, 1), (0, 4, 3, 3)]:
        frames = slice(0, 1) if t == 0 else slice(4 * t - 3, 4 * t + 1)
        block = mask[b, frames, PX * y : PX * (y + 1), PX * x : PX * (x + 1)]
        assert shares[b, t, y, x].item() == pytest.approx(block.mean(), abs=1e-6)


def test_a_pool_knows_where_its_objects_are_and_each_pass_sees_them_at_its_scale() -> None:
    """A pool video's object shares sit where the world drew its object; at a 1x1 pass a token's share is its
    frame's mean, at the finest pass the latent cells' own."""
    from engine.train.transformer_train import LatentPool, token_shares

    seed = 4
    pool = LatentPool.encode(VideoVAE(TOY.vae).eval(), [seed], 1, 64)
    video = sample_video(seed, 1, 64, change_motion=False)
    colour = np.array(OBJECT_COLOURS[video.truth[0].objects[0].colour], np.float32)
    ys, xs = np.nonzero(np.linalg.norm(video.frames[0].astype(np.float32) - colour, axis=-1) < 8)
    cell = pool.objects[0, 0]
    assert len(ys) > 20 and cell[int(ys.mean() // PX), int(xs.mean() // PX)] == cell.max() > 0.1
    schedule = build_schedule(TOY.schedule, 1, "1:1")
    passes = list(range(len(schedule.passes)))
    for p, share in zip(schedule.passes, token_shares(pool.objects, schedule, passes), strict=True):
        frames = pool.objects[:, : 1] if p.clip == 0 else pool.objects[:, 1:]
        assert share.shape == (1, p.t, p.h, p.w)
        if p.h == 1:
            assert torch.allclose(share[..., 0, 0], frames.mean(dim=(-2, -1)))
        if p.h == GRID:
            assert torch.equal(share, frames)


def test_token_weights_count_a_tokens_bits_that_many_times_and_the_object_accuracy_counts_by_share() -> None:
    from engine.train.transformer_train import bit_loss, object_bit_accuracy

    g = torch.Generator().manual_seed(1)
    logits = [torch.randn(2, 4, 8, 2, generator=g)]
    targets = [torch.randint(0, 2, (2, 4, 8), generator=g)]
    ones = [torch.ones(2, 4)]
    assert bit_loss(logits, targets, tokens=ones)[0].item() == pytest.approx(bit_loss(logits, targets)[0].item())
    tokens = [torch.ones(2, 4)]
    tokens[0][1, 2] = 5.0
    per_bit = torch.nn.functional.cross_entropy(logits[0].reshape(-1, 2), targets[0].reshape(-1).long(),
                                                reduction="none").reshape(2, 4, 8)
    by_hand = (per_bit.sum() + 4 * per_bit[1, 2].sum()) / (64 + 4 * 8)
    for weigh_passes in (False, True):
        assert bit_loss(logits, targets, weigh_passes, tokens=tokens)[0].item() == pytest.approx(by_hand.item())
    shares = [torch.zeros(2, 4)]
    shares[0][0, 1], shares[0][1, 3] = 1.0, 0.5
    correct = (logits[0].argmax(-1) == targets[0]).float()
    expected = (correct[0, 1].sum() + 0.5 * correct[1, 3].sum()) / (1.5 * 8)
    assert object_bit_accuracy(logits, targets, shares) == pytest.approx(expected.item())


def test_a_bfloat16_autocast_step_gives_the_float32_loss_within_a_percent() -> None:
    """--bf16 runs the forward in bfloat16 autocast; the loss it trains on must stay the float32 one."""
    from engine.train.transformer_train import LatentPool, Toyworld, step_loss

    torch.manual_seed(0)
    model = Toyworld()
    pool = LatentPool.encode(VideoVAE(TOY.vae).eval(), [1, 2], 1, 64)
    args = (model, pool.latents, pool.prompts, 1)
    full, _ = step_loss(*args, torch.Generator().manual_seed(0), 0.1, 0.0, objects=pool.objects, object_weight=10.0)
    with torch.autocast("cpu", torch.bfloat16):
        half, _ = step_loss(*args, torch.Generator().manual_seed(0), 0.1, 0.0, objects=pool.objects, object_weight=10.0)
    assert half.dtype == torch.float32 and half.item() == pytest.approx(full.item(), rel=0.01)


def test_the_learning_rate_warms_up_by_step_then_decays_to_a_tenth_over_the_time_budget(tmp_path: Path) -> None:
    from engine.train.checkpoint import TrainingRun

    model = torch.nn.Linear(2, 2)
    run = TrainingRun(tmp_path, model, torch.optim.SGD(model.parameters(), lr=0.0), minutes=10, save_every=3,
                      clock=lambda: 1000.0)  # stopped: the seconds spent are exactly those set

    def lr_at(step: int, seconds: float, warmup: int) -> float:
        run.state["step"], run.state["seconds"] = step, seconds
        run.start_clock()
        run.set_learning_rate(2.0, warmup)
        return run.optimizer.param_groups[0]["lr"]

    assert lr_at(0, 0.0, 100) == pytest.approx(2.0 / 100, rel=1e-3)
    assert lr_at(0, 0.0, 0) == pytest.approx(2.0, rel=1e-3)
    assert lr_at(500, 300.0, 100) == pytest.approx(2.0 * 0.55, rel=1e-3)  # half the time: halfway down the cosine
    assert lr_at(900, 600.0, 100) == pytest.approx(0.2, rel=1e-3)
    assert lr_at(900, 900.0, 100) == pytest.approx(0.2, rel=1e-3)  # past the budget it stays at the tenth


def test_a_bfloat16_vae_step_gives_the_float32_loss_within_a_percent() -> None:
    """vae_train --bf16 runs encoder and decoder in bfloat16 autocast, quantising in float32."""
    from engine.train.vae_train import step_loss

    torch.manual_seed(0)
    vae = VideoVAE(TOY.vae)
    video, weights = training_clips(np.random.default_rng(0), 1, 64, images=False, object_weight=10.0)
    schedule = build_schedule(TOY.schedule, 1, "1:1")
    full, bf16 = (step_loss(vae, video, weights, schedule, True, bf16)[0] for bf16 in (False, True))
    assert bf16.dtype == torch.float32 and bf16.item() == pytest.approx(full.item(), rel=0.01)
