"""A parity fixture (a recorded run of the official code): its description, tensors and derived configs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch
from safetensors.torch import load_file

from engine.api.json_text import loads_limited
from engine.config import ScheduleConfig, TransformerConfig


class FixtureError(ValueError):
    """The fixture folder is missing a file or a field the self-test needs."""


@dataclass
class Fixture:
    root: Path

    @classmethod
    def open(cls, root: str | Path) -> Fixture:
        root = Path(root)
        for name in ("fixture.json", "transformer.safetensors", "io.safetensors"):
            if not (root / name).is_file():
                raise FixtureError(
                    f"{root / name} is missing: a parity fixture holds fixture.json and safetensors files"
                )
        return cls(root)

    @cached_property
    def meta(self) -> dict:
        try:
            return loads_limited((self.root / "fixture.json").read_text(), "its text")
        except json.JSONDecodeError as err:
            raise FixtureError(f"{self.root / 'fixture.json'} is not valid JSON: {err}") from None

    @cached_property
    def io(self) -> dict[str, torch.Tensor]:
        return self._load("io.safetensors")

    def _load(self, name: str) -> dict[str, torch.Tensor]:
        try:
            return load_file(str(self.root / name))
        except Exception as err:  # safetensors reports truncation and bad headers with its own error type
            raise FixtureError(f"{self.root / name} is not a readable safetensors file: {err}") from None

    def field(self, *path: str):
        node = self.meta
        for key in path:
            if not isinstance(node, dict) or key not in node:
                raise FixtureError(f"{self.root / 'fixture.json'} has no field {'.'.join(path)}")
            node = node[key]
        return node

    def transformer_config(self) -> TransformerConfig:
        arch = self.field("architecture")
        return TransformerConfig(
            depth=arch["depth"],
            width=arch["width"],
            heads=arch["heads"],
            kv_heads=arch["kv_heads"],
            block_chunks=arch["block_chunks"],
            text_channels=arch["text_channels"],
            text_maxlen=arch["text_maxlen"],
            mlp_hidden=arch["mlp_hidden"],
            latent_channels=self.field("latent", "channels"),
        )

    def schedule_config(self) -> ScheduleConfig:
        passes = self.field("passes")
        clip0 = [p for p in passes if p["clip"] == 0]
        semantic = {p["scale_in_clip"] for p in clip0 if p["head"] == "semantic_head2"}
        detail_areas = [p["h"] * p["w"] for p in clip0 if p["head"] == "head"]
        guidance = self.field("guidance")
        reps = self.field("repetitions")
        video = self.clip_lengths()[1:]
        return ScheduleConfig(
            resolution=self.field("schedule", "pn"),
            semantic_scales=len(semantic),
            image_repetitions=tuple(reps["image_clip"]),
            video_repetitions=tuple(reps["video_clip"]),
            detail_min_area=min(detail_areas),
            tau_image=guidance["tau_image"],
            tau_video=guidance["tau_video"],
            guidance=guidance["type"],
            guidance_scale=guidance["scale"],
            apg_norm_threshold=guidance["apg_norm_threshold"],
            # a full clip is the longest (only the last may be shorter); every recorded clip sits in its own
            # RoPE slot, as the official code places them
            clip_frames=max(video, default=1),
            trained_video_clips=max(len(video), 1),
        )

    def clip_lengths(self) -> tuple[int, ...]:
        """Latent frames of each clip in order, from schedule.clips (clip 0 is the image)."""
        clips = self.field("schedule", "clips")
        if not isinstance(clips, list) or not clips or any(
            not isinstance(c, dict) or c.get("clip") != i for i, c in enumerate(clips)
        ):
            raise FixtureError(f"{self.root / 'fixture.json'} schedule.clips must list clips 0, 1, ... in order")
        try:
            return tuple(int(c["t"]) for c in clips)
        except (KeyError, TypeError, ValueError):
            raise FixtureError(f"{self.root / 'fixture.json'} schedule.clips: every clip needs its t") from None

    def aspect(self) -> float:
        return float(self.field("schedule", "h_div_w_template"))

    def text_features(self) -> torch.Tensor:
        return self.io["text_features"]

    def pass_bits(self) -> list[torch.Tensor]:
        return [self.io[f"pass{p['pass_index']:03d}.bits"] for p in self.field("passes")]

    def pass_logits(self, index: int) -> torch.Tensor:
        return self.io[f"pass{index:03d}.logits"]

    def logits_frames(self, index: int) -> list[int] | None:
        """The pass's latent frames (local to it) whose logits the fixture kept, or None when it kept them all."""
        frames = self.io.get(f"pass{index:03d}.logits_frames")
        return None if frames is None else frames.flatten().tolist()
