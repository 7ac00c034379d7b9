"""Scoring a toy-world model on held-out prompts: generate 2 s videos, read them back with the detector, time them.

Per prompt (eval_prompts, one object, seeds no training video uses) one video of SECONDS is generated with the
seed eval_seed(seed, index), so a run is repeatable and each prompt gets its own noise. Scores, each the
fraction over the video clips (1 s each) or their boundaries:
- colour: the detector's main object in the clip has the prompt's object colour;
- motion: its motion reading equals the prompt's motion exactly. Training keeps a video's motion throughout
  (slowed to stay in frame), so every clip should show it. Bouncing counts only when read as bouncing (the
  track turns back within the clip: the world's bounce speed makes every 1 s clip hit a wall), growing and
  shrinking only when the size changes while the object stays put, still only when neither happens; a bouncing
  clip read as a direction, or a growing one read as drifting, is a miss. The world's own 64 px renders of the
  first 200 held-out prompts (render(spec, 2, 64, eval_seed(0, index))) all score 1.0 by this rule, so on clean
  videos the rule itself costs nothing;
- consistency: boundary_consistency across each boundary between video clips (colour and shape kept). Clip 0
  is frame 0, which the decoder makes a copy of frame 1, so its boundary is left out.
Timings per prompt: `seconds` from the request to Finished (text encode, sampling and decode: the whole video)
and `first_pass_seconds` from the request to the first PassProgress, which is when the first preview can be
shown. `preview` says whether that event carried an image: run_generation makes one only when given a
PreviewMap, which the model store does not provide, so without one the time is that of the first pass event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from engine.pipeline import ClipFrames, Finished, GenerationModel, GenerationRequest, PassProgress, run_generation
from engine.train.toyworld.detect import boundary_consistency, read_video
from engine.train.toyworld.spec import CLIP_FRAMES, ClipSpec
from engine.train.toyworld.world import eval_prompts, eval_seed, frame_count

SECONDS = 2
GOALS = {"colour": 0.9, "motion": 0.8, "consistency": 0.9, "seconds": 5.0, "first_pass_seconds": 0.3}


@dataclass(frozen=True)
class PromptScore:
    index: int
    caption: str
    seed: int
    colour: str  # the prompt's object
    shape: str
    motion: str
    read: list[tuple[str | None, str | None, str | None]]  # per clip, clip 0 included: colour, shape, motion
    colour_hits: int  # over the video clips
    motion_hits: int
    consistent: list[bool]  # per boundary between video clips
    seconds: float
    first_pass_seconds: float
    preview: bool
    sampling_seconds: float
    decode_seconds: float


@dataclass
class Evaluation:
    scores: list[PromptScore]
    videos: list[np.ndarray] = field(repr=False)  # [T, H, W, 3] uint8 of the first prompts, for a contact sheet

    def summary(self) -> dict[str, Any]:
        seconds = [s.seconds for s in self.scores]
        first = [s.first_pass_seconds for s in self.scores]
        return {
            "n": len(self.scores),
            "clips": len(self.scores) * SECONDS,
            **accuracy([asdict(s) for s in self.scores], [s.shape for s in self.scores]),
            "seconds_median": float(np.median(seconds)),
            "seconds_p90": float(np.percentile(seconds, 90)),
            "first_pass_seconds_median": float(np.median(first)),
            "first_pass_seconds_p90": float(np.percentile(first, 90)),
            "previews": sum(s.preview for s in self.scores),
        }

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "goals": GOALS, "prompts": [asdict(s) for s in self.scores]}


def _generate(model: GenerationModel, caption: str, seed: int, first_frame: np.ndarray | None = None,
              forced: tuple[torch.Tensor, ...] = ()) -> tuple[np.ndarray, dict[str, Any]]:
    """The video of `caption` (from `first_frame`, or with its leading passes forced to `forced`, when
    given) and its timings."""
    request = GenerationRequest(prompts=(caption,), seconds=SECONDS, aspect="1:1", seed=seed, first_frame=first_frame,
                                forced=forced)
    clips, first, preview = [], None, False
    start = time.perf_counter()
    for event in run_generation(model, request, getattr(model, "preview", None)):
        if isinstance(event, PassProgress) and first is None:
            first, preview = time.perf_counter() - start, event.preview is not None
        elif isinstance(event, ClipFrames):
            clips.append(event.frames)
        elif isinstance(event, Finished):
            timing = {"seconds": time.perf_counter() - start, "first_pass_seconds": first, "preview": preview}
            timing |= {"sampling_seconds": event.sampling_seconds, "decode_seconds": event.decode_seconds}
    video = np.concatenate(clips)
    if len(video) != frame_count(SECONDS):
        raise ValueError(
            f"{model.preset.name} made {len(video)} frames for {SECONDS} s; the toy world's layout is "
            f"{frame_count(SECONDS)} (1 + {CLIP_FRAMES} per second)"
        )
    return video, timing


def judge(video: np.ndarray, spec: ClipSpec) -> dict[str, Any]:
    """What the detector reads of a toy-world `video` against `spec`'s first object: PromptScore's `read`,
    `colour_hits`, `motion_hits` and `consistent`."""
    readings = read_video(video, CLIP_FRAMES)
    truth = spec.objects[0]
    clips = readings[1:]
    return {
        "read": [(r.colour, r.shape, r.motion) for r in readings],
        "colour_hits": sum(r.colour == truth.colour for r in clips),
        "motion_hits": sum(r.motion == truth.motion for r in clips),
        "consistent": boundary_consistency(readings)[1:],
    }


def accuracy(judged: Sequence[Mapping[str, Any]], shapes: Sequence[str]) -> dict[str, float]:
    """Colour, motion, shape (read as prompted) and consistency over videos as judge() reads them, `shapes` their
    prompts' object shapes: the fractions over video clips, or for consistency over their boundaries."""
    clips = len(judged) * SECONDS
    boundaries = [ok for j in judged for ok in j["consistent"]]
    shape_hits = sum(read[1] == shape for j, shape in zip(judged, shapes, strict=True) for read in j["read"][1:])
    return {
        "colour": sum(j["colour_hits"] for j in judged) / clips,
        "motion": sum(j["motion_hits"] for j in judged) / clips,
        "shape": shape_hits / clips,
        "consistency": sum(boundaries) / len(boundaries),
    }


def score_prompt(
    model: GenerationModel, index: int, caption: str, spec: ClipSpec, seed: int, first_frame: np.ndarray | None = None,
    forced: tuple[torch.Tensor, ...] = (),
) -> tuple[PromptScore, np.ndarray]:
    """The score of held-out prompt `index` (`caption` showing `spec`) generated with `seed`, from `first_frame`
    (image-to-video) or with its leading passes forced to `forced` when given, and its video."""
    video, timing = _generate(model, caption, seed, first_frame, forced)
    truth = spec.objects[0]
    score = PromptScore(index, caption, seed, truth.colour, truth.shape, truth.motion, **judge(video, spec), **timing)
    return score, video


def evaluate(
    model: GenerationModel,
    n: int,
    seed: int = 0,
    keep: int = 8,
    progress: Callable[[PromptScore], None] | None = None,
) -> Evaluation:
    """Score `model` on the first `n` held-out prompts of evaluation set `seed`, keeping the first `keep` videos;
    `progress` sees each prompt's score as it is made."""
    if n < 1:
        raise ValueError(f"an evaluation needs at least one prompt, not {n}")
    scores, videos = [], []
    for index, (caption, spec) in enumerate(eval_prompts(n, seed, objects=1)):
        score, video = score_prompt(model, index, caption, spec, eval_seed(seed, index))
        scores.append(score)
        if index < keep:
            videos.append(video)
        if progress is not None:
            progress(score)
    return Evaluation(scores, videos)
