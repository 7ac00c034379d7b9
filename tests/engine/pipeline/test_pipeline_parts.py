"""The pipeline's small parts: prompt rewriting per model, the first frame's fit, ETA, stored bits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from tiny_models import random_bits, random_model, three_clip_schedule

from engine.api.records import BitsHeader
from engine.config import get_preset
from engine.media.layout import bits_path
from engine.pipeline.bits import BitsWriter, ClipBits, legacy_clips, read_bits
from engine.pipeline.eta import Eta
from engine.pipeline.first_frame import fit_image
from engine.pipeline.request import ClipText, GenerationRequest, PipelineInputError, clip_texts, request_schedule
from engine.pipeline.text import prompt_features
from engine.schedule import build_schedule
from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import save_safetensors
from engine.text import PromptError


class Echo:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, prompt: str) -> torch.Tensor:
        self.seen.append(prompt)
        return torch.zeros(1, 4)


def test_the_released_models_get_the_duration_tag_models_trained_here_the_prompt_as_written():
    echo = Echo()
    prompt_features(echo, get_preset("infinitystar-8b-480p"), "a red ball", 5)
    prompt_features(echo, get_preset("infinitystar-8b-480p"), "a red ball", 0)
    prompt_features(echo, get_preset("test-micro"), "a red ball", 5)
    assert echo.seen == ["<<<t=5s>>>a red ball, Close-up on big objects, emphasize scale and detail",
                         "a red ball", "a red ball"]
    with pytest.raises(PromptError, match="the prompt is empty"):
        prompt_features(echo, get_preset("test-micro"), "  ", 5)


def test_one_prompt_serves_every_clip_a_storyboard_has_one_per_video_clip():
    preset = get_preset("toyworld")

    def prompts(*given: str, seconds: int = 3) -> list[str | None]:
        request = GenerationRequest(prompts=given, seconds=seconds)
        return [t.prompt for t in clip_texts(preset, request_schedule(preset.schedule, request), request)]

    assert prompts() == [None] * 4
    assert prompts("a") == ["a"] * 4
    assert prompts("a", "b", "c") == ["a", "a", "b", "c"]  # the first frame (clip 0) takes the first prompt
    assert len(prompts(*(f"p{i}" for i in range(40)), seconds=40)) == 41  # any number of clips
    with pytest.raises(PipelineInputError, match="2 prompts given, but a 3 s toyworld video has 3 clips of 1 s: "
                                                 "give 1 prompt or 3"):
        prompts("a", "b")
    released = get_preset("infinitystar-8b-480p")
    seven = GenerationRequest(prompts=("a", "b", "c"), seconds=7)
    with pytest.raises(PipelineInputError, match=r"a 7 s infinitystar-8b-480p video has 2 clips \(5 s, 2 s\)"):
        clip_texts(released, request_schedule(released.schedule, seven), seven)


def test_prompts_are_tagged_with_the_video_length_up_to_the_trained_length():
    preset = get_preset("infinitystar-8b-480p")
    for seconds, tag in ((5, 5), (10, 10), (60, 10)):
        request = GenerationRequest(prompts=("a",), seconds=seconds)
        texts = clip_texts(preset, request_schedule(preset.schedule, request), request)
        assert {t.tag_seconds for t in texts} == {tag}


def test_a_continuation_runs_its_clips_again_with_their_own_texts():
    preset = get_preset("toyworld")
    end = tuple(ClipBits(c, 1 + 4 * (c - 1), 4, f"then {c}", 2, []) for c in (5, 6))
    request = GenerationRequest(seconds=3, continue_from=end)
    schedule = request_schedule(preset.schedule, request)
    assert schedule.first_clip == 5 and schedule.clip_lengths == (4, 4, 4, 4, 4) and schedule.seconds == 3
    texts = clip_texts(preset, schedule, request)
    # the new clips go on with the last prompt, tagged for the whole video (9 s, past the trained 2 s)
    assert texts == [ClipText("then 5", 2), ClipText("then 6", 2)] + [ClipText("then 6", 2)] * 3
    with pytest.raises(PipelineInputError, match="must follow each other"):
        GenerationRequest(seconds=1, continue_from=(end[1], end[0]))
    # from a video's start, its first frame among the clips run again: a prompt for each new clip still
    start = (ClipBits(0, 0, 1, "a", 1, []), ClipBits(1, 1, 4, "a", 1, []))
    request = GenerationRequest(prompts=("up", "down"), seconds=2, continue_from=start)
    texts = clip_texts(preset, request_schedule(preset.schedule, request), request)
    assert [t.prompt for t in texts] == ["a", "a", "up", "down"]


def test_the_first_frame_covers_the_video_frame_and_is_cropped_at_the_centre():
    image = np.zeros((100, 300, 3), np.uint8)
    image[:, :100, 0] = image[:, 100:200, 1] = image[:, 200:, 2] = 255  # red | green | blue
    x = fit_image(image, 64, 64)
    assert x.shape == (1, 3, 1, 64, 64) and x.min() >= -1 and x.max() <= 1
    assert torch.allclose(x[0, :, 0, 32, 32], torch.tensor([-1.0, 1.0, -1.0]), atol=0.01)  # the green middle
    assert fit_image(image, 32, 128).shape == (1, 3, 1, 32, 128)


def test_eta_is_the_rates_so_far_times_what_is_left():
    schedule = three_clip_schedule()  # clips of 1, 2, 2 latent frames
    passes = schedule.passes
    eta = Eta(schedule, forced=2)
    eta.pass_done(0, 100.0)  # forced passes cost nothing that says anything
    assert eta.seconds is None
    eta.pass_done(2, 1.0)
    left = sum(p.tokens for p in passes[3:])
    assert eta.seconds == pytest.approx(left / passes[2].tokens)
    eta.clip_decoded(1, 0.5)
    assert eta.seconds == pytest.approx(left / passes[2].tokens + 4 * 0.5)


def _clips(schedule, bits):
    return [ClipBits(c, start, schedule.clip_lengths[c], f"prompt {c}", 1, [bits[p.index] for p in
                                                                           schedule.clip_passes(c)])
            for c, (start, _) in enumerate(schedule.clip_spans)]


def test_bits_are_appended_packed_and_read_back_exactly(tmp_path: Path):
    schedule = three_clip_schedule()
    bits = random_bits(random_model(), schedule)
    path = bits_path(tmp_path / "clip.mp4")
    assert path.name == "clip.bits"
    clips = _clips(schedule, bits)
    with BitsWriter(path, BitsHeader("test-micro", 1.0, 16)) as writer:
        for clip in clips:
            writer.append(clip)
            header, read = read_bits(path)  # readable after every clip
            assert header == BitsHeader("test-micro", 1.0, 16) and read[-1].clip == clip.clip
    header, read = read_bits(path)
    assert [(c.clip, c.frame, c.t, c.prompt) for c in read] == [(0, 0, 1, "prompt 0"), (1, 1, 2, "prompt 1"),
                                                              (2, 3, 2, "prompt 2")]
    assert all(torch.equal(a, b) for c, r in zip(clips, read, strict=True) for a, b in zip(c.bits, r.bits,
                                                                                         strict=True))
    assert path.stat().st_size < sum(b.numel() for b in bits) / 7
    assert [c.clip for c in read_bits(path, last=2)[1]] == [1, 2]


def test_a_file_cut_off_mid_clip_keeps_its_finished_clips_and_damage_is_named(tmp_path: Path):
    schedule = three_clip_schedule()
    clips = _clips(schedule, random_bits(random_model(), schedule))
    path = tmp_path / "v.bits"
    with BitsWriter(path, BitsHeader("m", 1.0, 16)) as writer:
        for clip in clips:
            writer.append(clip)
    whole = path.read_bytes()
    path.write_bytes(whole[:-10])  # the engine died while appending the last clip
    assert [c.clip for c in read_bits(path)[1]] == [0, 1]
    damaged = bytearray(whole)
    damaged[-20] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(PipelineInputError, match="v.bits is damaged: the record of clip 2 fails its checksum"):
        read_bits(path)


def test_files_that_are_not_bits_are_refused(tmp_path: Path):
    (tmp_path / "a.bits").write_bytes(b"junk")
    with pytest.raises(PipelineInputError, match="a.bits is not a bits file"):
        read_bits(tmp_path / "a.bits")
    with pytest.raises(PipelineInputError, match="cannot read the bits file"):
        read_bits(tmp_path / "missing.bits")
    save_file({"weight": torch.zeros(2)}, tmp_path / "c.bits.safetensors")
    with pytest.raises(PipelineInputError, match="c.bits.safetensors holds no generation bits"):
        legacy_clips(tmp_path / "c.bits.safetensors", get_preset("test-micro").schedule)
    (tmp_path / "d.bits.safetensors").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="d.bits.safetensors is 4 bytes: too short"):
        legacy_clips(tmp_path / "d.bits.safetensors", get_preset("test-micro").schedule)


def test_bits_of_the_older_format_are_read_as_clips(tmp_path: Path):
    cfg = get_preset("test-micro").schedule
    schedule = build_schedule(cfg, 2, "1:1")
    bits = random_bits(random_model(), schedule)
    packed = {f"pass_{i:04d}": torch.from_numpy(np.packbits(b.numpy(), axis=-1)) for i, b in enumerate(bits)}
    meta = {"model": "test-micro", "seconds": "2", "aspect_h_over_w": "1.0", "prompts": '["a", "b"]'}
    save_safetensors(packed, tmp_path / "old.bits.safetensors", meta)
    header, clips = legacy_clips(tmp_path / "old.bits.safetensors", cfg)
    assert header.model == "test-micro" and [c.clip for c in clips] == [0, 1, 2]
    assert [c.prompt for c in clips] == ["a", "a", "b"]
    assert all(torch.equal(a, b) for a, b in zip([b for c in clips for b in c.bits], bits, strict=True))
