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
from engine.text.errors import PromptError
from engine.text.words import WordTextEncoder

TOY = get_preset("toyworld")


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
        residual = area_downsample_channels(clip - sums.sums[p.clip], bits, p.h, p.w)
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
    assert pool.latents.shape == (2, TOY.vae.codebook_dim, 5, 4, 4) and [len(c) for c in pool.prompts] == [1, 1]
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
    kept = texts(model, prompts, torch.tensor([False, False]))
    assert len(kept) == 3 and all(t.shape[:2] == (2, TOY.transformer.text_maxlen) for t in kept)
    assert torch.equal(kept[0], kept[1]) and not torch.equal(kept[1][0], kept[2][0])
    assert torch.equal(kept[1][1], kept[2][1])
    dropped = texts(model, prompts, torch.tensor([True, True]))
    uncond = model.transformer.cfg_uncond[: TOY.transformer.text_maxlen]
    assert all(torch.equal(t[i], uncond) for t in dropped for i in range(2))


def test_the_planner_counts_the_toyworld_word_encoder_as_built() -> None:
    from engine.runtime.planner import TEXT_ENCODER_PARAMS
    from engine.train.toyworld.captions import vocabulary

    cfg = TOY.transformer
    encoder = WordTextEncoder(vocabulary(), cfg.text_channels, cfg.text_maxlen)
    assert sum(p.numel() for p in encoder.parameters()) == TEXT_ENCODER_PARAMS["toyworld-words"]


def test_the_motion_passes_are_the_first_frame_and_the_first_clips_coarse_scales_and_keep_their_logits() -> None:
    """The contrast's second forward runs only the leading passes; under SSA they see nothing later, so their logits
    equal those of the whole video's forward."""
    from engine.model.packed import teacher_forced_logits
    from engine.train.transformer_train import Toyworld, motion_passes, training_bits

    latent, schedule = _latent(2)
    short = motion_passes(schedule)
    largest = max(p.scale_in_clip for p in schedule.clip_passes(1))
    assert [p.index for p in short.passes] == [
        p.index for p in schedule.passes if p.clip == 0 or (p.clip == 1 and p.scale_in_clip < largest)
    ]
    model = Toyworld().eval()
    _, inputs = training_bits(latent, schedule, (TOY.vae.semantic_bits, TOY.vae.detail_bits),
                              torch.Generator().manual_seed(1), 0.1)
    text = model.text(model.text.batch_ids(["a red circle moves left", "a blue star grows"]))
    with torch.no_grad():
        full = teacher_forced_logits(model.transformer, schedule, text, inputs, with_uncond=False)
        cut = teacher_forced_logits(model.transformer, short, text, inputs[: len(short.passes)], with_uncond=False)
    for a, b in zip(cut, full, strict=False):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_the_motion_contrast_is_the_caption_posterior_loss_per_clip() -> None:
    """Against a naive reference from two whole-video forwards: per video and clip (first frame, first video clip's
    coarse passes), softplus(NLL under the true caption - NLL under the other). With the same caption as the
    negative, the two captions cannot be told apart: 2 ln 2 per video. Dropped videos are left out."""
    import math

    import torch.nn.functional as F

    from engine.train.transformer_train import Toyworld, motion_contrast, motion_passes, teacher_forced

    torch.manual_seed(0)
    model = Toyworld().eval()
    latent, schedule = _latent(1)
    prompts = [["a red circle moves left"], ["a big blue star grows"]]
    negatives = ["a red circle moves right", "a big blue star shrinks"]
    with torch.no_grad():
        forced = teacher_forced(model, latent, prompts, 1, torch.Generator().manual_seed(2), 0.1, 0.0)
        contrast = motion_contrast(model, forced, negatives).item()
        same = motion_contrast(model, forced, [p[0] for p in prompts]).item()
        wrong = teacher_forced(model, latent, [[n] for n in negatives], 1, torch.Generator().manual_seed(2), 0.1, 0.0)
    assert same == pytest.approx(2 * math.log(2), abs=1e-3)  # float32 sums over thousands of bits
    per_video = [0.0, 0.0]
    for video in range(2):
        for clip in (0, 1):
            nll = []
            for run in (forced, wrong):
                passes = [p.index for p in motion_passes(schedule).passes if p.clip == clip]
                logits = torch.cat([run.logits[i][video].reshape(-1, 2) for i in passes])
                targets = torch.cat([run.targets[i][video].flatten() for i in passes]).long()
                nll.append(F.cross_entropy(logits, targets, reduction="sum").item())
            per_video[video] += math.log1p(math.exp(nll[0] - nll[1]))
    assert contrast == pytest.approx(sum(per_video) / 2, abs=1e-3)
    forced.dropped = torch.tensor([False, True])
    with torch.no_grad():
        assert motion_contrast(model, forced, negatives).item() == pytest.approx(per_video[0], abs=1e-3)


def test_a_pools_negative_captions_name_the_same_scene_in_the_same_words_with_other_motions() -> None:
    from engine.train.toyworld.captions import BACKGROUND_WORDS, COLOUR_WORDS, SHAPE_WORDS, SIZE_WORDS, words_of
    from engine.train.toyworld.spec import MOTIONS
    from engine.train.toyworld.world import sample_video, with_other_motions
    from engine.train.transformer_train import LatentPool

    video = sample_video(3, 1, 64, objects=2)
    spec = video.truth[1]
    other = with_other_motions(spec, np.random.default_rng(0))
    assert [o.motion for o in other.objects] != [o.motion for o in spec.objects]
    assert all(a.motion != b.motion and a.motion in MOTIONS for a, b in zip(other.objects, spec.objects, strict=True))
    assert [(o.colour, o.shape, o.size) for o in other.objects] == [(o.colour, o.shape, o.size) for o in spec.objects]
    assert (other.background, other.background_kind) == (spec.background, spec.background_kind)
    pool = LatentPool.encode(VideoVAE(TOY.vae).eval(), list(range(6)), 1, 64)
    assert len(pool.negatives) == 6
    scene_words = {w for table in (COLOUR_WORDS, SHAPE_WORDS, SIZE_WORDS, BACKGROUND_WORDS)
                   for options in table.values() for w in options} | {"gradient", "background", "backdrop"}
    for negative, (caption,) in zip(pool.negatives, pool.prompts, strict=True):
        assert negative != caption
        assert [w for w in words_of(negative) if w in scene_words] == [w for w in words_of(caption) if w in scene_words]
