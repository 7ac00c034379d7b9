"""The pipeline's small parts: prompt rewriting per model, the first frame's fit, ETA, stored bits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from tiny_models import random_bits, random_model, three_clip_schedule

from engine.config import get_preset
from engine.media.layout import bits_path
from engine.pipeline.bits import load_bits, save_bits
from engine.pipeline.eta import Eta
from engine.pipeline.first_frame import fit_image
from engine.pipeline.request import GenerationRequest, PipelineInputError, clip_prompts
from engine.pipeline.text import prompt_features
from engine.schedule import build_schedule
from engine.text import PromptError
from engine.weights.errors import CheckpointError


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
    schedule = build_schedule(preset.schedule, 3, "1:1")

    def prompts(*given: str) -> tuple[str, ...]:
        return clip_prompts(preset, schedule, GenerationRequest(prompts=given))

    assert prompts() == ()
    assert prompts("a") == ("a",) * 4
    assert prompts("a", "b", "c") == ("a", "a", "b", "c")  # the first frame (clip 0) takes the first prompt
    with pytest.raises(PipelineInputError, match="2 prompts given, but a 3 s toyworld video has 3 clips of 1 s: "
                                                 "give 1 prompt or 3"):
        prompts("a", "b")
    released = get_preset("infinitystar-8b-480p")
    seven = build_schedule(released.schedule, 7)
    with pytest.raises(PipelineInputError, match=r"a 7 s infinitystar-8b-480p video has 2 clips \(5 s, 2 s\)"):
        clip_prompts(released, seven, GenerationRequest(prompts=("a", "b", "c")))


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


def test_bits_are_stored_packed_and_read_back_exactly(tmp_path: Path):
    schedule = three_clip_schedule()
    bits = random_bits(random_model(), schedule)
    path = bits_path(tmp_path / "clip.mp4")
    assert path.name == "clip.bits.safetensors"
    save_bits(path, bits, {"model": "test-micro"})
    loaded, meta = load_bits(path)
    assert meta == {"model": "test-micro"} and all(torch.equal(a, b) for a, b in zip(loaded, bits, strict=True))
    assert path.stat().st_size < sum(b.numel() for b in bits) / 7


def test_files_that_are_not_bits_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="packing needs a multiple of 8"):
        save_bits(tmp_path / "b.safetensors", [torch.ones(1, 2, 6, dtype=torch.uint8)], {})
    save_file({"weight": torch.zeros(2)}, tmp_path / "c.safetensors")
    with pytest.raises(PipelineInputError, match="c.safetensors holds no generation bits"):
        load_bits(tmp_path / "c.safetensors")
    (tmp_path / "d.safetensors").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="d.safetensors is 4 bytes: too short"):
        load_bits(tmp_path / "d.safetensors")
