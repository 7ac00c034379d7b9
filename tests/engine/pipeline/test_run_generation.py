"""One generation through the pipeline on test-micro: events in order, frames per clip, frame 0, seeds, cancel, I2V."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine.config import ConfigError
from engine.loader import load_model
from engine.model.bsq import quantize_multiscale
from engine.model.preview import PreviewMap
from engine.pipeline import (
    ClipFrames,
    Finished,
    GenerationRequest,
    PassProgress,
    PipelineInputError,
    Started,
    run_generation,
)
from engine.pipeline.first_frame import fit_image
from engine.sampler import GenerationCancelled
from engine.schedule import build_schedule
from engine.weights.store import ModelStore

TEXT = torch.randn(5, 32, generator=torch.Generator().manual_seed(7))
PREVIEW = PreviewMap(torch.randn(3, 64, generator=torch.Generator().manual_seed(1)) * 0.1, torch.zeros(3))


def picture(height: int = 200, width: int = 300, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def loaded(micro_home):
    return load_model("test-micro", "cpu", store=ModelStore(micro_home / "models"), progress=lambda _: None)


@pytest.fixture(scope="module")
def three_clips(loaded):
    """test-micro with 2-frame clips: 1 s is then an image clip and two video clips (17 frames, as 4-frame clips)."""
    schedule = dataclasses.replace(loaded.preset.schedule, clip_frames=2)
    return dataclasses.replace(loaded, preset=dataclasses.replace(loaded.preset, schedule=schedule))


@pytest.fixture(scope="module")
def i2v_events(three_clips):
    request = GenerationRequest(seconds=1, aspect="1:1", seed=3, text_features=TEXT, first_frame=picture())
    return list(run_generation(three_clips, request, preview=PREVIEW))


def bits_of(events) -> list[torch.Tensor]:
    return [b for e in events if isinstance(e, ClipFrames) for r in e.records for b in r.bits]


def image(loaded, **fields) -> list:
    return list(run_generation(loaded, GenerationRequest(seconds=0, aspect="1:1", text_features=TEXT, **fields)))


def test_frames_stream_clip_by_clip_between_the_passes(i2v_events):
    started, finished = i2v_events[0], i2v_events[-1]
    assert isinstance(started, Started) and isinstance(finished, Finished)
    assert (started.passes, started.clips, started.frames, started.height, started.width, started.fps) == (
        38, 3, 17, 256, 256, 16)
    kinds = [type(e).__name__ for e in i2v_events[1:-1]]
    # clip 0 (12 passes) decodes to no frames of its own; each video clip's frames come right after its last pass
    assert kinds == ["PassProgress"] * 25 + ["ClipFrames"] + ["PassProgress"] * 13 + ["ClipFrames"]
    clips = [e for e in i2v_events if isinstance(e, ClipFrames)]
    assert [(c.clip, c.frame_start, c.frames.shape) for c in clips] == [
        (1, 0, (9, 256, 256, 3)), (2, 9, (8, 256, 256, 3))]
    assert all(c.frames.dtype == np.uint8 for c in clips)
    # the reference overwrites frame 0 (the image clip's own frame) with frame 1
    assert np.array_equal(clips[0].frames[0], clips[0].frames[1])
    assert finished.decode_seconds > 0 and finished.seconds >= finished.sampling_seconds
    # each clip's frames come with its bits, to append to a continuable file: clip 0 (the first frame) with clip 1
    assert [[(r.clip, r.frame, r.t, len(r.bits)) for r in c.records] for c in clips] == [
        [(0, 0, 1, 12), (1, 1, 2, 13)], [(2, 3, 2, 13)]]
    assert all(b.device.type == "cpu" and b.dtype == torch.uint8 for b in bits_of(i2v_events))


def test_every_pass_reports_progress_with_a_preview(i2v_events):
    passes = [e for e in i2v_events if isinstance(e, PassProgress)]
    assert [p.index for p in passes] == list(range(38)) and {p.total for p in passes} == {38}
    assert [p.clip for p in passes] == [0] * 12 + [1] * 13 + [2] * 13
    assert all(p.preview.shape == (64, 64, 3) and p.preview.dtype == np.uint8 for p in passes)
    # clip 0 is forced from the image, so there is no sampling rate to estimate from until pass 12
    assert all(p.eta_seconds is None for p in passes[:12]) and all(p.eta_seconds >= 0 for p in passes[12:])


def test_image_to_video_forces_clip_0_from_the_encoded_image(i2v_events, three_clips):
    schedule = build_schedule(three_clips.preset.schedule, 1, "1:1")
    encoded = three_clips.vae.encode(fit_image(picture(), 256, 256))
    want = quantize_multiscale(encoded, schedule)
    bits = bits_of(i2v_events)
    assert len(want) == 12 and all(torch.equal(a, b) for a, b in zip(bits, want, strict=False))
    other = quantize_multiscale(three_clips.vae.encode(fit_image(picture(seed=1), 256, 256)), schedule)
    assert not all(torch.equal(a, b) for a, b in zip(bits, other, strict=False))
    assert i2v_events[0].settings.image_to_video is True


def test_same_seed_same_frames_other_seed_other_frames(loaded):
    def frames(seed: int) -> np.ndarray:
        [clip] = [e for e in image(loaded, seed=seed) if isinstance(e, ClipFrames)]
        assert (clip.clip, clip.frame_start, clip.frames.shape) == (0, 0, (1, 256, 256, 3))
        return clip.frames

    assert np.array_equal(frames(5), frames(5))
    assert not np.array_equal(frames(5), frames(6))


def test_cancel_stops_before_the_next_pass(loaded):
    seen = []
    request = GenerationRequest(seconds=1, aspect="1:1", text_features=TEXT)
    with pytest.raises(GenerationCancelled, match="before pass 3"):
        for event in run_generation(loaded, request, cancel=lambda: len(seen) >= 3):
            assert not isinstance(event, ClipFrames)
            if isinstance(event, PassProgress):
                seen.append(event.index)
    assert seen == [0, 1, 2]


def test_overrides_and_the_prompt_of_every_clip_reach_the_settings(loaded):
    request = GenerationRequest(prompts=("a ball",), seconds=0, aspect="1:1", text_features=TEXT,
                                guidance_scale=2.5, tau_image=0.7)
    started = next(run_generation(loaded, request))
    assert started.settings.guidance_scale == 2.5 and started.settings.tau_image == 0.7
    assert started.settings.prompts == ("a ball",) and started.notes == ()


class RecordingEncoder:
    """Features of its own for every prompt (the same prompt, the same features); knows no 'zeppelin'."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def encode(self, prompt: str) -> torch.Tensor:
        self.prompts.append(prompt)
        seed = sum(map(ord, prompt))
        return torch.randn(3 + seed % 5, 32, generator=torch.Generator().manual_seed(seed))

    def unknown_words(self, prompt: str) -> list[str]:
        return [w for w in prompt.split() if w == "zeppelin"]


def test_prompts_go_through_the_models_text_encoder_as_written_for_models_trained_here(loaded):
    encoder = RecordingEncoder()
    model = dataclasses.replace(loaded, text_encoder=encoder)
    events = list(run_generation(model, GenerationRequest(prompts=("a red ball",), seconds=1, aspect="1:1")))
    assert encoder.prompts == ["a red ball"] and events[0].settings.prompts == ("a red ball",) * 2


def run(model, **fields) -> list:
    return list(run_generation(model, GenerationRequest(seconds=1, aspect="1:1", seed=3, **fields)))


@pytest.fixture(scope="module")
def one_prompt_run(three_clips) -> list:
    return run(dataclasses.replace(three_clips, text_encoder=RecordingEncoder()), prompts=("a ball",))


def test_a_storyboard_gives_each_video_clip_its_prompt(three_clips, one_prompt_run):
    encoder = RecordingEncoder()
    model = dataclasses.replace(three_clips, text_encoder=encoder)
    events = run(model, prompts=("a ball", "a red zeppelin"))
    single, story = bits_of(one_prompt_run), bits_of(events)
    assert encoder.prompts == ["a ball", "a red zeppelin"]  # each distinct prompt encoded once
    assert events[0].settings.prompts == ("a ball", "a ball", "a red zeppelin")
    assert events[0].notes == ("prompt 2: this model does not know the words zeppelin: they were left out of the "
                               "prompt",)
    # clips 0 and 1 (passes 0..24) read the first prompt, as in the single-prompt run; clip 2 reads its own
    assert all(torch.equal(a, b) for a, b in zip(single[:25], story[:25], strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(single[25:], story[25:], strict=True))


def test_a_video_continues_with_a_new_prompt_from_its_clips_own_texts(three_clips, one_prompt_run):
    """The continuation runs its context clips again with the prompts they were made with, then makes the new
    clips (and only their frames) with the new prompt."""
    encoder = RecordingEncoder()
    model = dataclasses.replace(three_clips, text_encoder=encoder)
    earlier = tuple(r for e in one_prompt_run if isinstance(e, ClipFrames) for r in e.records)
    events = run(model, prompts=("a cube",), continue_from=earlier)
    assert encoder.prompts == ["a ball", "a cube"]
    started, clips = events[0], [e for e in events if isinstance(e, ClipFrames)]
    assert (started.passes, started.clips, started.frames) == (26, 2, 16)
    assert started.settings.continued_from_clip == 2 and started.settings.prompts == ("a cube", "a cube")
    assert [(c.clip, c.frame_start, len(c.frames)) for c in clips] == [(0, 0, 8), (1, 8, 8)]
    assert [(r.clip, r.frame, r.prompt) for c in clips for r in c.records] == [(3, 5, "a cube"), (4, 7, "a cube")]
    passes = [e for e in events if isinstance(e, PassProgress)]
    assert [p.index for p in passes] == list(range(26)) and {p.clip for p in passes} == {0, 1}


def test_a_wrong_number_of_prompts_says_how_many_the_video_takes(loaded, three_clips):
    with pytest.raises(PipelineInputError, match="3 prompts given, but a 1 s test-micro video has 2 clips of 0.5 s: "
                                                 "give 1 prompt or 2$"):
        next(run_generation(three_clips, GenerationRequest(prompts=("a", "b", "c"), seconds=1)))
    with pytest.raises(PipelineInputError, match="2 prompts given, but a 1 s test-micro video has 1 clip of 1 s: "
                                                 "give 1 prompt$"):
        next(run_generation(loaded, GenerationRequest(prompts=("a", "b"), seconds=1)))
    with pytest.raises(PipelineInputError, match="but a test-micro image is one clip: give 1 prompt$"):
        next(run_generation(loaded, GenerationRequest(prompts=("a", "b"), seconds=0)))
    with pytest.raises(PipelineInputError, match="text features are one text for every clip"):
        next(run_generation(three_clips, GenerationRequest(prompts=("a", "b"), seconds=1, text_features=TEXT)))


def test_requests_that_cannot_run_are_refused_clearly(loaded):
    with pytest.raises(PipelineInputError, match="test-micro has no text encoder"):
        next(run_generation(loaded, GenerationRequest(prompts=("a red ball",), seconds=0)))
    interact = dataclasses.replace(loaded, preset=dataclasses.replace(loaded.preset, mode="interact"))
    with pytest.raises(PipelineInputError, match="is an Interact model: this engine plans it, never generates with it"):
        next(run_generation(interact, GenerationRequest(seconds=0, text_features=TEXT)))
    with pytest.raises(PipelineInputError, match="the request has no prompt"):
        next(run_generation(dataclasses.replace(loaded, text_encoder=RecordingEncoder()), GenerationRequest(seconds=0)))
    with pytest.raises(PipelineInputError, match="not more than one"):
        GenerationRequest(first_frame=picture(), forced=(torch.zeros(1),))
    with pytest.raises(ConfigError, match="duration 601 s is longer than one job makes"):
        next(run_generation(loaded, GenerationRequest(seconds=601, text_features=TEXT)))
    with pytest.raises(ConfigError, match="tau_image and tau_video must be > 0"):
        next(run_generation(loaded, GenerationRequest(seconds=0, text_features=TEXT, tau_video=0)))
    bad = GenerationRequest(seconds=0, aspect="1:1", text_features=TEXT, first_frame=picture()[..., :2])
    with pytest.raises(PipelineInputError, match=r"uint8 RGB \[H, W, 3\], got uint8 \[200, 300, 2\]"):
        next(run_generation(loaded, bad))
