"""Architecture, tokenizer and generation-schedule configs, and the named presets built from them."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A config value is outside what the engine supports; the message names the field."""




@dataclass(frozen=True)
class TransformerConfig:
    """Shape of the InfinityStar decoder (Qwen3-style blocks with a text prefix)."""

    depth: int
    width: int
    heads: int
    kv_heads: int
    block_chunks: int
    text_channels: int = 2048
    text_maxlen: int = 512
    latent_channels: int = 64
    semantic_bits: int = 16
    detail_bits: int = 64
    mlp_hidden: int | None = None
    rope_base: float = 10000.0
    norm_eps: float = 1e-6

    def __post_init__(self) -> None:
        for name in ("depth", "width", "heads", "kv_heads", "block_chunks", "text_channels", "text_maxlen"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"transformer.{name} must be positive, got {getattr(self, name)}")
        if self.width % self.heads:
            raise ConfigError(f"transformer.width {self.width} is not divisible by heads {self.heads}")
        if self.heads % self.kv_heads:
            raise ConfigError(f"transformer.heads {self.heads} is not a multiple of kv_heads {self.kv_heads}")
        if self.head_dim % 8:
            raise ConfigError(
                f"transformer head_dim {self.head_dim} must be a multiple of 8 "
                "(the rotary pairs split over four axes)"
            )
        if self.depth % self.block_chunks:
            raise ConfigError(f"transformer.depth {self.depth} is not divisible by block_chunks {self.block_chunks}")

    @property
    def head_dim(self) -> int:
        return self.width // self.heads

    @property
    def blocks_per_chunk(self) -> int:
        return self.depth // self.block_chunks

    @property
    def mlp_hidden_size(self) -> int:
        if self.mlp_hidden is not None:
            return self.mlp_hidden
        return round(self.width * 4 / 256) * 256


@dataclass(frozen=True)
class VAEConfig:
    """Shape of the causal video VAE and its binary spherical quantizers.

    Down block i of the encoder (and the mirrored up block of the decoder) resamples space by 2 while
    i < len(spatial_compression) and time by temporal_compression[i] while i < len(temporal_compression).
    The encoder's 2 * latent_channels output is folded 2x2 into channels, so the latent the transformer
    sees has 4 * latent_channels = codebook_dim channels and 16 px per token at the released sizes
    (pixels_per_token, which the preset's resolution must match).
    """

    block_out_channels: tuple[int, ...] = (96, 192, 384, 384, 384)
    layers_per_block: int = 2
    decoder_layers_per_block: int = 3
    mid_layers: int = 2
    in_channels: int = 3
    latent_channels: int = 16
    temporal_compression: tuple[int, ...] = (2, 2)
    spatial_compression: tuple[int, ...] = (2, 2, 2)
    codebook_dim: int = 64
    semantic_bits: int = 16
    detail_bits: int = 64

    def __post_init__(self) -> None:
        widths = self.block_out_channels
        if len(widths) < 2 or any(c <= 0 for c in widths):
            raise ConfigError(f"vae.block_out_channels needs at least two positive widths, got {widths}")
        for name in ("layers_per_block", "decoder_layers_per_block", "mid_layers", "in_channels", "latent_channels"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"vae.{name} must be positive, got {getattr(self, name)}")
        blocks = len(widths) - 1
        if any(f != 2 for f in self.spatial_compression) or len(self.spatial_compression) > blocks:
            raise ConfigError(
                f"vae.spatial_compression must be at most {blocks} factors of 2, got {self.spatial_compression}"
            )
        if any(f < 1 for f in self.temporal_compression) or len(self.temporal_compression) > len(
            self.spatial_compression
        ):
            raise ConfigError(
                "vae.temporal_compression must hold positive factors, no more than spatial_compression has, "
                f"got {self.temporal_compression}"
            )
        if self.codebook_dim != 4 * self.latent_channels:
            raise ConfigError(
                f"vae.codebook_dim {self.codebook_dim} must be 4 * latent_channels ({4 * self.latent_channels}): "
                "the latent is the encoder output folded 2x2 into channels"
            )
        for i in range(blocks):
            cin, cout = widths[i], widths[i + 1]
            if i >= len(self.spatial_compression) and cin != cout:
                raise ConfigError(f"vae block {i} does not resample, so it cannot change width ({cin} -> {cout})")
            if i < len(self.spatial_compression) and (cout % 4 or (4 * cin) % cout):
                raise ConfigError(
                    f"vae down block {i} goes {cin} -> {cout} channels: {cout} must be a multiple of 4 and "
                    f"divide 4 * {cin}"
                )

    @property
    def time_factor(self) -> int:
        """Video frames per latent frame (after the first frame, which has its own latent frame)."""
        return math.prod(self.temporal_compression)

    @property
    def pixels_per_token(self) -> int:
        """Pixels per latent token along H and W: the encoder's downsampling times the 2x2 fold."""
        return 2 ** len(self.spatial_compression) * 2


SCALE_SIDES = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32, 40, 60)


@dataclass(frozen=True)
class Resolution:
    """A family of scale templates: the square sides of its scales, each a side of SCALE_SIDES (every aspect's
    template takes the same entries), and the pixels a token covers along H and W."""

    sides: tuple[int, ...]
    pixels_per_token: int = 16

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(SCALE_SIDES.index(side) for side in self.sides)


RESOLUTIONS = {
    "64px": Resolution((1, 2, 3, 4)),
    # 64 px at 8 px per token: an 11-19 px toyworld object spans two or three tokens rather than one
    "64px-8": Resolution((1, 2, 3, 4, 6, 8), pixels_per_token=8),
    "0.06M": Resolution(SCALE_SIDES[:11]),
    "0.25M": Resolution(SCALE_SIDES[:13]),
    "480p": Resolution(SCALE_SIDES[:14]),
    "720p": Resolution(SCALE_SIDES),
}
RESOLUTION_ALIASES = {"0.40M": "480p", "0.90M": "720p", "192p": "0.06M", "384p": "0.25M"}


def canonical_resolution(resolution: str) -> str:
    name = RESOLUTION_ALIASES.get(resolution, resolution)
    if name not in RESOLUTIONS:
        allowed = sorted(set(RESOLUTIONS) | set(RESOLUTION_ALIASES))
        raise ConfigError(f"unknown resolution {resolution!r}; allowed: {', '.join(allowed)}")
    return name


@dataclass(frozen=True)
class ScheduleConfig:
    """How one generation walks the scales: resolution family, repetitions, sampling and guidance."""

    resolution: str
    semantic_scales: int
    image_repetitions: tuple[int, ...]
    video_repetitions: tuple[int, ...]
    detail_min_area: int
    tau_image: float = 1.0
    tau_video: float = 0.4
    guidance: str = "apg"
    guidance_scale: float = 34.0
    apg_norm_threshold: float = 0.05
    clip_frames: int = 20
    # How many video clips the weights saw in one training video. Later clips are sampled in the last trained
    # clip's RoPE slot, the clip before them in the slot before (engine.schedule).
    trained_video_clips: int = 2
    fps: int = 16
    frames_per_latent: int = 4
    interact_semantic_scale: int = 7
    interact_detail_frames: tuple[int, ...] = (18, 19)
    interact_scale_ids: tuple[int, int] = (800, 801)

    def __post_init__(self) -> None:
        if self.guidance not in ("apg", "cfg"):
            raise ConfigError(f"schedule.guidance must be 'apg' or 'cfg', got {self.guidance!r}")
        if len(self.image_repetitions) != len(self.video_repetitions):
            raise ConfigError(
                "schedule.image_repetitions and video_repetitions must list one count per scale: "
                f"got {len(self.image_repetitions)} and {len(self.video_repetitions)}"
            )
        if any(r < 1 for r in (*self.image_repetitions, *self.video_repetitions)):
            raise ConfigError("schedule repetitions must all be >= 1")
        if not 0 <= self.semantic_scales <= len(self.image_repetitions):
            raise ConfigError(
                f"schedule.semantic_scales {self.semantic_scales} must lie in 0..{len(self.image_repetitions)}"
            )
        if self.tau_image <= 0 or self.tau_video <= 0:
            raise ConfigError("schedule.tau_image and tau_video must be > 0")
        if self.clip_frames < 1 or self.trained_video_clips < 1:
            raise ConfigError("schedule.clip_frames and trained_video_clips must be >= 1")

    @property
    def scales_per_clip(self) -> int:
        return len(self.image_repetitions)

    @property
    def clip_seconds(self) -> float:
        """Seconds of one full video clip."""
        return self.clip_frames * self.frames_per_latent / self.fps

    @property
    def trained_seconds(self) -> int:
        """The longest video the weights saw: its first frame and `trained_video_clips` full clips."""
        return int(self.trained_video_clips * self.clip_seconds)

    def tag_seconds(self, seconds: int) -> int:
        """The duration a prompt is tagged with (the released models read `<<<t=Ns>>>`): past the trained length
        every clip is sampled in a trained slot, so the prompt says the trained length."""
        return min(seconds, self.trained_seconds)


TEXT_ENCODERS = ("flan-t5-xl", "toyworld-words", "none")


@dataclass(frozen=True)
class Preset:
    """A named model: its architecture, tokenizer and default schedule."""

    name: str
    description: str
    transformer: TransformerConfig
    schedule: ScheduleConfig
    vae: VAEConfig = field(default_factory=VAEConfig)
    mode: str = "video"  # "interact": one 5 s segment with prefilled condition blocks, planned but never run here
    text_encoder: str = "flan-t5-xl"
    default_aspect: str = "16:9"  # W:H; a model trained on one aspect only (toyworld: square) says so here
    aspects: tuple[str, ...] = ()  # the W:H ratios it was trained on, when only some; empty: any it has a template for

    def __post_init__(self) -> None:
        if self.mode not in ("video", "interact"):
            raise ConfigError(f"preset.mode must be 'video' or 'interact', got {self.mode!r}")
        if self.text_encoder not in TEXT_ENCODERS:
            raise ConfigError(f"preset.text_encoder must be one of {TEXT_ENCODERS}, got {self.text_encoder!r}")
        tokens = RESOLUTIONS[canonical_resolution(self.schedule.resolution)].pixels_per_token
        if self.vae.pixels_per_token != tokens:
            raise ConfigError(
                f"preset {self.name!r}: its vae makes {self.vae.pixels_per_token} px per token (spatial_compression "
                f"{self.vae.spatial_compression}) but resolution {self.schedule.resolution!r} has {tokens}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preset:
        try:
            return cls(
                name=data["name"],
                description=data.get("description", ""),
                transformer=_build(TransformerConfig, data["transformer"], "transformer"),
                schedule=_build(ScheduleConfig, data["schedule"], "schedule"),
                vae=_build(VAEConfig, data.get("vae", {}), "vae"),
                mode=data.get("mode", "video"),
                text_encoder=data.get("text_encoder", "flan-t5-xl"),
                default_aspect=data.get("default_aspect", "16:9"),
                aspects=tuple(data.get("aspects", ())),
            )
        except KeyError as missing:
            raise ConfigError(f"preset is missing the field {missing}") from None

    @classmethod
    def from_json(cls, text: str) -> Preset:
        return cls.from_dict(json.loads(text))


def _build(kind: type, values: dict[str, Any], section: str):
    known = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{section} has unknown fields {unknown}; allowed: {sorted(known)}")
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return kind(**converted)
    except TypeError as err:
        raise ConfigError(f"{section}: {err}") from None


_REPS_720P_IMAGE = (3,) * 15
_REPS_720P_VIDEO = (3,) * 12 + (2, 1, 1)
_REPS_480P_IMAGE = (3,) * 14
_REPS_480P_VIDEO = (3,) * 12 + (2, 1)
_EIGHT_B = TransformerConfig(depth=36, width=4096, heads=32, kv_heads=8, block_chunks=6)

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="infinitystar-8b-720p",
            description="InfinityStar 8B, 1280x720 at 16 fps, trained on 5 s videos; longer ones clip by clip",
            transformer=_EIGHT_B,
            schedule=ScheduleConfig(
                resolution="720p",
                semantic_scales=12,
                image_repetitions=_REPS_720P_IMAGE,
                video_repetitions=_REPS_720P_VIDEO,
                detail_min_area=750,
                trained_video_clips=1,
            ),
        ),
        Preset(
            name="infinitystar-8b-480p",
            description="InfinityStar 8B, 848x480 at 16 fps, trained on 10 s videos; longer ones clip by clip",
            transformer=_EIGHT_B,
            schedule=ScheduleConfig(
                resolution="480p",
                semantic_scales=11,
                image_repetitions=_REPS_480P_IMAGE,
                video_repetitions=_REPS_480P_VIDEO,
                detail_min_area=350,
                trained_video_clips=2,
            ),
        ),
        Preset(
            name="infinitystar-interact-480p",
            description="InfinityStar-Interact 8B, 848x480, a new prompt every 5 s segment; plans only, "
            "this engine does not generate with it",
            transformer=_EIGHT_B,
            schedule=ScheduleConfig(
                resolution="480p",
                semantic_scales=11,
                image_repetitions=_REPS_480P_VIDEO,
                video_repetitions=_REPS_480P_VIDEO,
                detail_min_area=350,
                tau_image=0.5,
                tau_video=0.5,
                guidance="cfg",
                guidance_scale=3.0,
                trained_video_clips=1,
            ),
            mode="interact",
        ),
        Preset(
            name="toyworld",
            description="the built-in demo: a small InfinityStar trained here on a world of moving shapes, "
            "64x64 at 16 fps, trained on 2 s videos; longer ones clip by clip",
            transformer=TransformerConfig(
                depth=4, width=256, heads=4, kv_heads=2, block_chunks=2, text_channels=128, text_maxlen=24,
                latent_channels=32, semantic_bits=8, detail_bits=32,
            ),
            schedule=ScheduleConfig(
                resolution="64px",
                semantic_scales=2,
                image_repetitions=(1, 1, 2, 3),
                video_repetitions=(1, 1, 2, 3),
                detail_min_area=7,  # between the second and third scales of every aspect template
                # chosen on two 100-prompt held-out sets against 3.0 and 0.5: colour +0.04 and +0.10, motion +0.01
                # and +0.03 (docs/toyworld.md)
                tau_image=0.25,
                tau_video=0.5,
                guidance="cfg",
                guidance_scale=5.0,
                clip_frames=4,
                trained_video_clips=2,  # engine.train.transformer_train trains on videos of 1 and 2 s
            ),
            vae=VAEConfig(
                block_out_channels=(16, 32, 64, 64), layers_per_block=1, decoder_layers_per_block=1, mid_layers=1,
                latent_channels=8, codebook_dim=32, semantic_bits=8, detail_bits=32,
            ),
            text_encoder="toyworld-words",
            default_aspect="1:1",
            aspects=("1:1",),
        ),
        Preset(
            name="tiny-a",
            description="the parity fixture's size: depth 4, width 128, 256x256, 11 scales",
            transformer=TransformerConfig(
                depth=4, width=128, heads=4, kv_heads=2, block_chunks=2, text_channels=64
            ),
            schedule=ScheduleConfig(
                resolution="0.06M",
                semantic_scales=8,
                image_repetitions=(3,) * 11,
                video_repetitions=(3,) * 9 + (2, 1),
                detail_min_area=80,
            ),
            vae=VAEConfig(block_out_channels=(8, 16, 32, 32, 32)),
            text_encoder="none",
        ),
        Preset(
            name="test-micro",
            description="the smallest working size, for fast tests: depth 2, width 64, 4-frame clips",
            transformer=TransformerConfig(
                depth=2, width=64, heads=4, kv_heads=2, block_chunks=1, text_channels=32, text_maxlen=16
            ),
            schedule=ScheduleConfig(
                resolution="0.06M",
                semantic_scales=8,
                image_repetitions=(2,) + (1,) * 10,
                video_repetitions=(2,) + (1,) * 8 + (2, 1),
                detail_min_area=80,
                clip_frames=4,
            ),
            vae=VAEConfig(block_out_channels=(8, 16, 32, 32, 32)),
            text_encoder="none",
        ),
    )
}
# test-micro reading prompts through a T5 encoder of its text width, as the 8B does: a test-size random release
# (engine.weights.random_release) goes through the whole path, text encoder included.
PRESETS["test-micro-t5"] = dataclasses.replace(
    PRESETS["test-micro"], name="test-micro-t5", description="test-micro with a two-layer T5 encoder of width 32",
    transformer=dataclasses.replace(PRESETS["test-micro"].transformer, text_maxlen=512), text_encoder="flan-t5-xl",
)


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}") from None
