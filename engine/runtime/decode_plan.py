"""Peak memory of decoding one clip with VideoVAE.decode_stream, derived from shapes.

Follows engine/model/vae.py and vae_blocks.py tensor by tensor: the conv caches every tile keeps
between chunks, and inside a chunk the tensors alive at the largest moment of each resnet, depth-to-space
upsampler and the output norm/conv. Change those files and this one together.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from engine.config import ConfigError, VAEConfig
from engine.model.vae import Tiling, VideoVAE, decode_chunks
from engine.runtime.precision import compute_bytes

DECODE_DTYPES = ("fp32", "bf16")
CONV_PAST = 2  # frames of input every 3-frame causal conv keeps for the next chunk
# oneDNN's CPU convolutions run in a channel-blocked layout (16 channels a block with AVX-512): the input is copied
# into it and the output written in it, then copied back out. Beside a conv lies one more copy of the larger of
# its input and output, and beside the 3-channel output conv a blocked copy of its input and a whole 16-channel
# output block. Without these the plan was 13-20% under a measured decode on an AVX-512 CPU.
CHANNEL_BLOCK = 16


@dataclass(frozen=True)
class DecodeSettings:
    """How the clips are decoded, and whether the transformer leaves the device meanwhile."""

    dtype: str = "fp32"
    chunk_latents: int | None = 2
    tiling: Tiling | None = None
    offload_transformer: bool = False

    def __post_init__(self) -> None:
        if self.dtype not in DECODE_DTYPES:
            raise ConfigError(f"decode dtype must be one of {DECODE_DTYPES}, got {self.dtype!r}")

    @property
    def element(self) -> int:
        return compute_bytes(self.dtype)


@dataclass
class _Chunk:
    """The tensors of one decoder call on one tile, walked stage by stage as Decoder.forward runs; `frames`,
    `h` and `w` are the current feature map's."""

    cfg: VAEConfig
    frames: int
    h: int
    w: int
    element: int
    first: bool
    both_tails: bool  # a middle chunk: each conv holds its old tail while storing the new one
    caches: int = 0
    peak: int = 0

    def size(self, channels: int) -> int:
        return channels * self.frames * self.h * self.w * self.element

    def tail(self, channels: int) -> int:
        return CONV_PAST * channels * self.h * self.w * self.element

    def conv_past(self, channels: int, convs: int = 1) -> int:
        """Keep the tails of `convs` 3-frame convs over `channels`; return what one of them holds beyond its input
        and output while it runs: the past frames copied into its padded input, and in a middle chunk its old tail."""
        self.caches += convs * self.tail(channels)
        return self.tail(channels) * (2 if self.both_tails else 1)

    def resnet(self, channels: int) -> None:
        # x, h, and then either the norm's normed/gain/product terms beside the resized zq,
        # or the conv's activated input, padded input, output and blocked copy
        a = self.size(channels)
        self.peak = max(self.peak, 5 * a + max(self.size(self.cfg.latent_channels), self.conv_past(channels, 2) + a))

    def upsample(self, channels: int, out_channels: int, time_factor: int) -> None:
        a = self.size(channels)
        conv_out = self.size(out_channels * 4 * time_factor)
        conv = 3 * a + self.conv_past(channels) + 2 * conv_out
        # x, the conv output h, its depth-to-space copy, the repeated x and its copy (then their sum)
        self.peak = max(self.peak, conv, a + 4 * conv_out)
        self.frames = 1 + time_factor * (self.frames - 1) if self.first else self.frames * time_factor
        self.h, self.w = 2 * self.h, 2 * self.w

    def output(self, channels: int) -> None:
        a = self.size(channels)
        norm = 4 * a + self.size(self.cfg.latent_channels)
        # beside the blocked input, the 3-channel output is written as a whole channel block, then copied out
        conv = 4 * a + self.conv_past(channels) + self.size(self.cfg.in_channels) + self.size(CHANNEL_BLOCK)
        self.peak = max(self.peak, norm, conv)

    def run(self) -> _Chunk:
        cfg = self.cfg
        widths = cfg.block_out_channels[::-1]
        blocks = len(widths) - 1
        z = self.size(cfg.latent_channels)  # the unfolded decoder input, alive for the whole call
        # conv_in's padded input, output and blocked copy
        self.peak = z + self.conv_past(cfg.latent_channels) + 2 * self.size(widths[0])
        for _ in range(cfg.mid_layers):
            self.resnet(widths[0])
        for i in range(blocks):
            for _ in range(cfg.decoder_layers_per_block):
                self.resnet(widths[i])
            down = blocks - 1 - i  # the encoder block this up block mirrors
            if down < len(cfg.spatial_compression):
                factor = cfg.temporal_compression[down] if down < len(cfg.temporal_compression) else 1
                self.upsample(widths[i], widths[i + 1], factor)
        self.output(widths[-1])
        self.peak += z
        return self


@functools.cache
def vae_weight_bytes(cfg: VAEConfig, element: int) -> int:
    """The whole VideoVAE (encoder too: one module is loaded) with float tensors at `element` bytes. Cached: a
    plan asks it for every clip and precision, and building the VAE on the meta device took 0.12 s each time."""
    with torch.device("meta"):
        state = VideoVAE(cfg).state_dict()
    return sum(t.numel() * (element if t.is_floating_point() else t.element_size()) for t in state.values())


def _boxes(h: int, w: int, tiling: Tiling | None) -> list[tuple[int, int]]:
    """(rows, columns) in latent tokens of every tile, as _Tiles lays them out."""
    rows = tiling.spans(h) if tiling else [(0, h)]
    cols = tiling.spans(w) if tiling else [(0, w)]
    return [(r1 - r0, c1 - c0) for r0, r1 in rows for c0, c1 in cols]


def _pixels(cfg: VAEConfig, frames: int, h: int, w: int, element: int, first: bool) -> int:
    """Decoded frames of `frames` latent frames over h x w tokens."""
    video_frames = 1 + cfg.time_factor * (frames - 1) if first else cfg.time_factor * frames
    px = cfg.pixels_per_token
    return cfg.in_channels * video_frames * h * px * w * px * element


def session_cache_bytes(cfg: VAEConfig, h: int, w: int, element: int, tiling: Tiling | None = None) -> int:
    """The conv caches of every tile: what a DecodeSession holds between chunks and between pieces."""
    return sum(_Chunk(cfg, 1, 2 * bh, 2 * bw, element, True, False).run().caches for bh, bw in _boxes(h, w, tiling))


def decode_peak_bytes(
    cfg: VAEConfig,
    t: int,
    h: int,
    w: int,
    element: int,
    chunk_latents: int | None = 2,
    tiling: Tiling | None = None,
    starts_video: bool = True,
    ends_video: bool = True,
) -> int:
    """Peak bytes of DecodeSession.feed over a [1, 64, t, h, w] piece of a video's latent (decode_stream: the
    piece that both starts and ends the video): VAE weights, the conv caches of every tile (unless the whole
    video is one chunk) and the largest moment inside a chunk, with the caller still holding the frames of
    the chunk before."""
    chunks = decode_chunks(t, chunk_latents, starts_video)
    boxes = _boxes(h, w, tiling)
    peak = held = 0
    for k, s in enumerate(chunks):
        frames, first = s.stop - s.start, starts_video and k == 0
        middle = not first and not (ends_video and k == len(chunks) - 1)  # reads the caches and stores new ones
        walks = [_Chunk(cfg, frames, 2 * bh, 2 * bw, element, first, middle).run() for bh, bw in boxes]
        tiles = [_pixels(cfg, frames, bh, bw, element, first) for bh, bw in boxes]
        # tile i runs while the outputs of tiles before it wait to be blended
        inside = max(sum(tiles[:i]) + walk.peak for i, walk in enumerate(walks))
        if len(boxes) > 1:
            # all tile outputs, the blended sum and its normalised copy
            inside = max(inside, sum(tiles) + 2 * _pixels(cfg, frames, h, w, element, first))
        peak = max(peak, held + inside)
        held = _pixels(cfg, frames, h, w, element, first)
    one_chunk_video = starts_video and ends_video and len(chunks) == 1
    caches = 0 if one_chunk_video else session_cache_bytes(cfg, h, w, element, tiling)
    return vae_weight_bytes(cfg, element) + caches + peak
