"""The InfinityStar causal video VAE: pixels <-> the 64-channel latent the transformer's running sum lives in.

Encode: encoder -> 2x2 fold into channels -> posterior mean (or a sample) -> proj_down -> times the
checkpoint's scale. Decode: the inverse, in causal time chunks that carry a conv cache, so long videos
decode in bounded memory and stream, clip by clip as the latent arrives. Optional spatial tiling for large frames.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.config import VAEConfig
from engine.model.bsq import TwoStageBSQ
from engine.model.vae_blocks import (
    CausalCache,
    CausalConv3d,
    DepthToSpaceUp,
    Resample,
    ResnetBlock,
    RMSNorm,
    SpaceToDepthDown,
    SpatialNorm,
)
from engine.tensors.errors import CheckpointError
from engine.tensors.validate import LISTED, check_shapes


class VAEInputError(ValueError):
    """A video or latent does not have the shape the VAE needs; the message names the expected shape."""


class VAECheckpointError(CheckpointError):
    """A VAE checkpoint cannot be read or does not fit the config; the message names the file and the tensors."""


class DownBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, layers: int, resample: bool, time_factor: int) -> None:
        super().__init__()
        self.resnets = nn.ModuleList(ResnetBlock(in_channels) for _ in range(layers))
        resampler = [Resample(SpaceToDepthDown(in_channels, out_channels, time_factor))] if resample else []
        self.downsamplers = nn.ModuleList(resampler)

    def forward(self, x: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        for resnet in self.resnets:
            x = resnet(x, cache)
        for down in self.downsamplers:
            x = down(x, cache)
        return x


class UpBlock(nn.Module):
    def __init__(
        self, in_channels: int, out_channels: int, layers: int, zq_channels: int, resample: bool, time_factor: int
    ) -> None:
        super().__init__()
        self.resnets = nn.ModuleList(ResnetBlock(in_channels, zq_channels) for _ in range(layers))
        resampler = [Resample(DepthToSpaceUp(in_channels, out_channels, time_factor))] if resample else []
        self.upsamplers = nn.ModuleList(resampler)

    def forward(self, x: torch.Tensor, zq: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        for resnet in self.resnets:
            x = resnet(x, cache, zq)
        for up in self.upsamplers:
            x = up(x, cache)
        return x


class MidBlock(nn.Module):
    def __init__(self, channels: int, layers: int, zq_channels: int | None = None) -> None:
        super().__init__()
        self.resnets = nn.ModuleList(ResnetBlock(channels, zq_channels) for _ in range(layers))

    def forward(self, x: torch.Tensor, cache: CausalCache, zq: torch.Tensor | None = None) -> torch.Tensor:
        for resnet in self.resnets:
            x = resnet(x, cache, zq)
        return x


def _time_factor(cfg: VAEConfig, block: int) -> int:
    return cfg.temporal_compression[block] if block < len(cfg.temporal_compression) else 1


class Encoder(nn.Module):
    """Video [B, 3, 1 + 4k, H, W] -> [B, 2 * latent_channels, 1 + k, H/8, W/8] (mean and log-variance)."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        widths = cfg.block_out_channels
        self.conv_in = CausalConv3d(cfg.in_channels, widths[0])
        self.down_blocks = nn.ModuleList(
            DownBlock(
                widths[i], widths[i + 1], cfg.layers_per_block, i < len(cfg.spatial_compression), _time_factor(cfg, i)
            )
            for i in range(len(widths) - 1)
        )
        self.mid_block = MidBlock(widths[-1], cfg.mid_layers)
        self.norm_out = RMSNorm(widths[-1])
        self.conv_out = CausalConv3d(widths[-1], 2 * cfg.latent_channels)

    def forward(self, x: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        x = self.conv_in(x, cache)
        for block in self.down_blocks:
            x = block(x, cache)
        x = self.mid_block(x, cache)
        return self.conv_out(F.silu(self.norm_out(x)), cache)


class Decoder(nn.Module):
    """[B, latent_channels, T, h, w] -> video [B, 3, 1 + 4(T-1), 8h, 8w]; every norm is conditioned on the input."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        widths = cfg.block_out_channels[::-1]
        blocks = len(widths) - 1
        zq = cfg.latent_channels
        self.conv_in = CausalConv3d(zq, widths[0])
        self.mid_block = MidBlock(widths[0], cfg.mid_layers, zq)
        # Up block i mirrors down block blocks-1-i of the encoder.
        self.up_blocks = nn.ModuleList(
            UpBlock(
                widths[i],
                widths[i + 1],
                cfg.decoder_layers_per_block,
                zq,
                blocks - 1 - i < len(cfg.spatial_compression),
                _time_factor(cfg, blocks - 1 - i),
            )
            for i in range(blocks)
        )
        self.norm_out = SpatialNorm(widths[-1], zq)
        self.conv_out = CausalConv3d(widths[-1], cfg.in_channels)

    def forward(self, z: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        x = self.conv_in(z, cache)
        x = self.mid_block(x, cache, z)
        for block in self.up_blocks:
            x = block(x, z, cache)
        return self.conv_out(F.silu(self.norm_out(x, z, cache)), cache)


def decoder_history(cfg: VAEConfig) -> float:
    """How many latent frames back a decoded frame depends on: every 3-frame causal conv of the decoder reaches two
    frames of its input back, at its place's frame rate (Decoder's layout, conv by conv). A decode session fed
    at least this many latent frames before a clip decodes it as a session fed the whole video before it does."""
    blocks = len(cfg.block_out_channels) - 1
    history, rate = 2.0, 1  # conv_in
    history += 2 * 2 * cfg.mid_layers
    for i in range(blocks):
        down = blocks - 1 - i
        history += 2 * 2 * cfg.decoder_layers_per_block / rate
        if down < len(cfg.spatial_compression):
            history += 2 / rate
            rate *= _time_factor(cfg, down)
    return history + 2 / rate  # conv_out


@dataclass(frozen=True)
class Tiling:
    """Spatial tiling, in latent tokens (16 px each at the released sizes): square tiles of `tile` tokens that
    overlap their neighbours by `overlap` tokens and are blended with linear ramps there. Tiles trade a
    little accuracy near seams for a peak memory set by the tile, not the frame."""

    tile: int = 24
    overlap: int = 4

    def __post_init__(self) -> None:
        if not 0 <= self.overlap < self.tile:
            raise ValueError(f"tiling needs 0 <= overlap < tile, got tile={self.tile} overlap={self.overlap}")

    def spans(self, size: int) -> list[tuple[int, int]]:
        """[start, end) token ranges covering 0..size; the last tile ends flush with the frame."""
        if size <= self.tile:
            return [(0, size)]
        starts = list(range(0, size - self.tile, self.tile - self.overlap)) + [size - self.tile]
        return [(s, s + self.tile) for s in starts]


def _ramp(length: int, lead: int, trail: int) -> torch.Tensor:
    """Blend weights of one tile side: rising over `lead` samples, falling over the last `trail`."""
    w = torch.ones(length)
    if lead:
        w[:lead] = torch.arange(1, lead + 1) / (lead + 1)
    if trail:
        w[length - trail :] = torch.minimum(w[length - trail :], torch.arange(trail, 0, -1) / (trail + 1))
    return w


class _Tiles:
    """The tiles of one token grid, each with its own causal cache, and how to blend their outputs."""

    def __init__(self, grid: tuple[int, int], tiling: Tiling | None) -> None:
        self.grid = grid
        self.overlap = tiling.overlap if tiling else 0
        rows = tiling.spans(grid[0]) if tiling else [(0, grid[0])]
        cols = tiling.spans(grid[1]) if tiling else [(0, grid[1])]
        self.boxes = [(r, c) for r in rows for c in cols]
        self.caches = [CausalCache() for _ in self.boxes]

    def run(
        self, fn: Callable[[torch.Tensor, CausalCache], torch.Tensor], x: torch.Tensor, scale_in: int, last: bool
    ) -> torch.Tensor:
        outputs = []
        for ((r0, r1), (c0, c1)), cache in zip(self.boxes, self.caches, strict=True):
            cache.keep = not last
            outputs.append(fn(x[..., r0 * scale_in : r1 * scale_in, c0 * scale_in : c1 * scale_in], cache))
            cache.first = False
        if len(outputs) == 1:
            return outputs[0]
        return self._blend(outputs)

    def _blend(self, outputs: list[torch.Tensor]) -> torch.Tensor:
        first = outputs[0]
        scale = first.shape[-2] // (self.boxes[0][0][1] - self.boxes[0][0][0])
        total = first.new_zeros(*first.shape[:-2], self.grid[0] * scale, self.grid[1] * scale)
        weight = first.new_zeros(self.grid[0] * scale, self.grid[1] * scale)
        ramp = self.overlap * scale
        for ((r0, r1), (c0, c1)), out in zip(self.boxes, outputs, strict=True):
            rows = _ramp((r1 - r0) * scale, ramp if r0 > 0 else 0, ramp if r1 < self.grid[0] else 0)
            cols = _ramp((c1 - c0) * scale, ramp if c0 > 0 else 0, ramp if c1 < self.grid[1] else 0)
            w = torch.outer(rows, cols).to(out)
            total[..., r0 * scale : r1 * scale, c0 * scale : c1 * scale] += out * w
            weight[r0 * scale : r1 * scale, c0 * scale : c1 * scale] += w
        return total / weight


def _linear_over_channels(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    return layer(x.movedim(1, -1)).movedim(-1, 1)


def _fold(x: torch.Tensor) -> torch.Tensor:
    """[B, C, T, H, W] -> [B, 4C, T, H/2, W/2] (pixel unshuffle per frame, channels ordered (C, row, column))."""
    return F.pixel_unshuffle(x.transpose(1, 2), 2).transpose(1, 2)


def _unfold(x: torch.Tensor) -> torch.Tensor:
    return F.pixel_shuffle(x.transpose(1, 2), 2).transpose(1, 2)


def decode_chunks(frames: int, chunk_latents: int | None, starts_video: bool = True) -> list[slice]:
    """The latent frames of each decode chunk of a piece of `frames` latent frames: `chunk_latents` at a time
    (None: one chunk), with the video's frame 0 alone when the piece starts the video."""
    if chunk_latents is None:
        return [slice(0, frames)]
    head = [slice(0, 1)] if starts_video else []
    return head + [slice(s, min(s + chunk_latents, frames)) for s in range(len(head), frames, chunk_latents)]


class DecodeSession:
    """Decodes one video's latent as it arrives, piece by piece (clip by clip), into exactly the frames one
    call on the whole latent gives. Between pieces it holds only the causal conv caches of every tile.

    The first piece starts at latent frame 0, which decodes to one video frame (yielded alone when chunking);
    every later latent frame decodes to `time_factor` frames. Output is the raw decoder's, unclamped. The
    reference's pipeline then replaces frame 0 by frame 1; a caller wanting that writes the next chunk's
    first frame twice instead of the first chunk's single frame.
    """

    def __init__(self, vae: VideoVAE, chunk_latents: int | None, tiling: Tiling | None) -> None:
        if chunk_latents is not None and chunk_latents <= 0:
            raise VAEInputError(f"chunk_latents must be positive or None, got {chunk_latents}")
        self.vae = vae
        self.chunk_latents = chunk_latents
        self.tiling = tiling
        self.ended = False
        self._tiles: _Tiles | None = None
        self._shape: tuple[int, int, int] | None = None  # batch, h, w of the first piece
        self._reading = False

    @property
    def held_bytes(self) -> int:
        """What the session holds between pieces: the conv caches of every tile."""
        caches = self._tiles.caches if self._tiles else []
        return sum(t.numel() * t.element_size() for cache in caches for t in cache.tails.values())

    def _starts_video(self, latent: torch.Tensor) -> bool:
        """Check that `latent` can follow what was fed before; True for the first piece."""
        if self.ended:
            raise VAEInputError("this decode session has ended: its last piece was already fed")
        if self._reading:
            raise VAEInputError("the frames of the previous piece were not all read; pieces decode in order")
        self.vae._check_latent(latent)
        shape = (latent.shape[0], *latent.shape[-2:])
        if self._shape is None:
            self._shape = shape
            self._tiles = _Tiles(shape[1:], self.tiling)
            return True
        if shape != self._shape:
            b, h, w = self._shape
            expected = f"[{b}, {self.vae.cfg.codebook_dim}, T, {h}, {w}]"
            raise VAEInputError(f"latent has shape {tuple(latent.shape)}; this session decodes {expected}")
        return False

    @torch.no_grad()
    def feed(self, latent: torch.Tensor, last: bool = False) -> Iterator[torch.Tensor]:
        """Yield the decoded frames of the next latent frames [B, 64, t, H, W], chunk by chunk, as
        [B, 3, f, 16H, 16W]. Read every chunk before feeding more. `last`: this piece ends the video, so
        its last chunk stores no cache and the session frees its caches."""
        starts_video = self._starts_video(latent)
        chunks = decode_chunks(latent.shape[2], self.chunk_latents, starts_video)
        self._reading = True
        for k, s in enumerate(chunks):
            yield self._tiles.run(self.vae._decode_chunk, latent[:, :, s], 1, last and k == len(chunks) - 1)
        self._reading = False
        if last:
            self.ended, self._tiles = True, None


class VideoVAE(nn.Module):
    """The released video VAE with its quantizer state, under the checkpoint's key names.

    The latent ("raw features") is [B, codebook_dim, T, H/16, W/16] with T = 1 + (frames - 1) / 4: the
    first frame has a latent frame of its own, then every 4 frames share one.
    """

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        # [0] scales the latent for the transformer; [1] belongs to the unused second (high-res) pyramid.
        self.scale_learnable_parameters = nn.Parameter(torch.ones(4))
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quantizer = TwoStageBSQ(cfg.semantic_bits, cfg.detail_bits)
        self.quantize = self.quantizer  # the checkpoint stores the quantizer under both names
        d = cfg.codebook_dim
        self.proj_down = nn.Linear(d, d)
        self.proj_down_two = nn.Linear(d, d)  # *_two: the second pyramid, in the checkpoint but unused
        self.proj_up = nn.Linear(d, d)
        self.proj_up_two = nn.Linear(d, d)

    @classmethod
    def from_state_dict(
        cls,
        cfg: VAEConfig,
        state: dict[str, torch.Tensor],
        device: str | torch.device = "cpu",
        source: str = "the VAE state dict",
    ) -> VideoVAE:
        """Build on the meta device and take the checkpoint's tensors as they are. Tensors that do not fit `cfg`
        raise one VAECheckpointError naming `source` and every missing, unexpected and mis-shaped tensor."""
        with torch.device("meta"):
            vae = cls(cfg)
        check_shapes(
            {k: v.shape for k, v in vae.state_dict().items()},
            {k: v.shape for k, v in state.items()},
            source,
            "VAE",
            VAECheckpointError,
        )
        vae.load_state_dict({k: v.to(device) for k, v in state.items()}, strict=True, assign=True)
        return vae.eval()

    @classmethod
    def from_file(cls, cfg: VAEConfig, path: str | Path, device: str | torch.device = "cpu") -> VideoVAE:
        """The VAE of a converted .safetensors file or the released .pth; errors name the file."""
        return cls.from_state_dict(cfg, load_vae_state(path), device, source=str(path))

    # -- shapes -------------------------------------------------------------------------------------------

    def _check_video(self, video: torch.Tensor) -> None:
        c, f, px = self.cfg.in_channels, self.cfg.time_factor, self.cfg.pixels_per_token
        ok = video.dim() == 5 and video.shape[1] == c and (video.shape[2] - 1) % f == 0
        if not ok or video.shape[-2] % px or video.shape[-1] % px or 0 in video.shape:
            raise VAEInputError(
                f"video has shape {tuple(video.shape)}; expected [B, {c}, 1 + {f}k, H, W] "
                f"with H and W multiples of {px}"
            )

    def _check_latent(self, latent: torch.Tensor) -> None:
        d = self.cfg.codebook_dim
        if latent.dim() != 5 or latent.shape[1] != d or 0 in latent.shape:
            raise VAEInputError(f"latent has shape {tuple(latent.shape)}; expected [B, {d}, T, H, W]")

    def _encode_chunks(self, frames: int, chunk_frames: int | None) -> list[slice]:
        """The reference's split: 8k + 1 (or fewer) frames first, then `chunk_frames` at a time."""
        if chunk_frames is None:
            return [slice(0, frames)]
        if chunk_frames % self.cfg.time_factor or chunk_frames <= 0:
            raise VAEInputError(f"chunk_frames must be a positive multiple of {self.cfg.time_factor}")
        n = max(frames // chunk_frames, 1)
        first = frames - chunk_frames * (n - 1)
        return [slice(0, first)] + [slice(s, s + chunk_frames) for s in range(first, frames, chunk_frames)]

    # -- encode -------------------------------------------------------------------------------------------

    @torch.no_grad()
    def encoder_features(
        self, video: torch.Tensor, chunk_frames: int | None = 8, tiling: Tiling | None = None
    ) -> torch.Tensor:
        """Video [B, 3, F, H, W] in [-1, 1] -> encoder output [B, 2 * latent_channels, T, H/8, W/8]."""
        self._check_video(video)
        px = self.cfg.pixels_per_token
        tiles = _Tiles((video.shape[-2] // px, video.shape[-1] // px), tiling)
        chunks = self._encode_chunks(video.shape[2], chunk_frames)
        out = [tiles.run(self.encoder, video[:, :, s], px, k == len(chunks) - 1) for k, s in enumerate(chunks)]
        return torch.cat(out, dim=2)

    @staticmethod
    def posterior(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder output -> (mean, log-variance clamped to [-30, 20]), each folded 2x2 to [B, 64, T, h, w]."""
        mean, logvar = _fold(features).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    @torch.no_grad()
    def encode(
        self,
        video: torch.Tensor,
        sample: bool = False,
        generator: torch.Generator | None = None,
        chunk_frames: int | None = 8,
        tiling: Tiling | None = None,
    ) -> torch.Tensor:
        """Video [B, 3, 1 + 4k, H, W] in [-1, 1] -> latent [B, 64, 1 + k, H/16, W/16].

        Uses the posterior mean, so the result is reproducible; `sample=True` draws from the posterior as the
        reference does (its I2V is therefore not deterministic).
        """
        mean, logvar = self.posterior(self.encoder_features(video, chunk_frames, tiling))
        z = mean
        if sample:
            noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            z = mean + torch.exp(0.5 * logvar) * noise
        return _linear_over_channels(self.proj_down, z) * self.scale_learnable_parameters[0]

    def training_latent(self, video: torch.Tensor) -> torch.Tensor:
        """`encode`'s posterior-mean latent with autograd, in one time chunk: what training differentiates."""
        self._check_video(video)
        mean, _ = self.posterior(self.encoder(video, CausalCache()))
        return _linear_over_channels(self.proj_down, mean) * self.scale_learnable_parameters[0]

    def training_decode(self, latent: torch.Tensor) -> torch.Tensor:
        """`decode` with autograd, in one time chunk."""
        self._check_latent(latent)
        return self.decoder(self._decoder_input(latent), CausalCache())

    # -- decode -------------------------------------------------------------------------------------------

    def _decoder_input(self, latent: torch.Tensor) -> torch.Tensor:
        # the sampler's latents are float32; a VAE loaded in bf16 (the planner's lean decode) takes them in its dtype
        z = latent.to(self.proj_up.weight.dtype) / self.scale_learnable_parameters[0]
        return _unfold(_linear_over_channels(self.proj_up, z))

    def _decode_chunk(self, latent: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        return self.decoder(self._decoder_input(latent), cache)

    def decoder_session(self, chunk_latents: int | None = 2, tiling: Tiling | None = None) -> DecodeSession:
        """A decoder for a latent that arrives in pieces (clip by clip); see DecodeSession."""
        return DecodeSession(self, chunk_latents, tiling)

    def decode_stream(
        self, latent: torch.Tensor, chunk_latents: int | None = 2, tiling: Tiling | None = None
    ) -> Iterator[torch.Tensor]:
        """Yield decoded frames chunk by chunk: first frame 0 alone, then 4 * `chunk_latents` frames at a time
        (None: everything in one chunk). Raw decoder output, unclamped, [B, 3, f, H*16, W*16] per chunk.

        Between chunks it holds only the causal cache: for each 3-frame conv (per tile) the last two frames
        of that conv's input, i.e. about two frames of every activation width; no decoded frame is kept.
        """
        return self.decoder_session(chunk_latents, tiling).feed(latent, last=True)

    def decode(self, latent: torch.Tensor, chunk_latents: int | None = 2, tiling: Tiling | None = None) -> torch.Tensor:
        """Latent [B, 64, T, H, W] -> video [B, 3, 1 + 4(T-1), 16H, 16W], raw (unclamped) decoder output.

        The reference's video pipeline then replaces frame 0 by frame 1 before saving; that, and clamping to
        [-1, 1], is left to the caller.
        """
        return torch.cat(list(self.decode_stream(latent, chunk_latents, tiling)), dim=2)


WHAT_LOADS = (
    "a .safetensors file, or a PyTorch .pth holding only tensors as {'vae': {name: tensor}} "
    "(torch.save of a state dict, the zip format or the legacy one)"
)


def _read(path: Path, what: str, load: Callable[[], object]) -> object:
    try:
        return load()
    except pickle.UnpicklingError:
        raise VAECheckpointError(
            f"{path} is not a plain tensor checkpoint: it holds Python objects other than tensors, or is a raw "
            f"pickle, and unpickling it could run code, so it is refused for safety. What loads: {WHAT_LOADS}"
        ) from None
    except Exception as err:  # safetensors and torch report truncation and bad headers with their own types
        raise VAECheckpointError(f"{path} is not a readable {what}: {err}") from None


def _describe(obj: object) -> str:
    if isinstance(obj, dict):
        keys = sorted(map(str, obj))
        return f"a dict with keys {keys[:LISTED]}{' ...' if len(keys) > LISTED else ''}"
    return f"a {type(obj).__name__}"


def load_vae_state(path: str | Path) -> dict[str, torch.Tensor]:
    """A VAE state dict from a converted .safetensors file or the released .pth ({"vae": state_dict})."""
    path = Path(path)
    if not path.is_file():
        raise VAECheckpointError(f"{path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return _read(path, "safetensors file", lambda: load_file(str(path)))
    # weights_only: only tensors and plain containers are unpickled, for the zip format and the legacy one alike;
    # mmap (no second copy of the tensors) works for the zip format only, so a legacy file is read into memory
    mmap = zipfile.is_zipfile(path)
    checkpoint = _read(path, "torch checkpoint", lambda: torch.load(path, "cpu", weights_only=True, mmap=mmap))
    state = checkpoint.get("vae") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise VAECheckpointError(
            f"{path} holds {_describe(checkpoint)}; the released VAE file holds {{'vae': {{name: tensor}}}}"
        )
    return state


def vae_key_table(cfg: VAEConfig) -> list[tuple[str, tuple[int, ...], str]]:
    """(key, shape, dtype name) of every checkpoint tensor, in checkpoint order; built on the meta device."""
    with torch.device("meta"):
        vae = VideoVAE(cfg)
    return [(k, tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in vae.state_dict().items()]


def vae_key_shapes(cfg: VAEConfig) -> list[tuple[str, tuple[int, ...]]]:
    """(key, shape) of every checkpoint tensor, in checkpoint order; built on the meta device."""
    return [(k, shape) for k, shape, _ in vae_key_table(cfg)]
