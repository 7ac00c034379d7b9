"""Memory and compute plan of a generation, derived on the meta device from what the pass loop allocates.

The activation model follows engine/model/transformer.py and engine/sampler.py tensor by tensor:
which tensors are alive at the largest moment of a block (projection, attention, MLP), the
token chunking of large passes, the K/V cache (text, condition blocks, kept scales) and the
running sums. Change those files and this one together. The decode phase comes from decode_plan.py.

Each clip decodes when its last pass is done, as the next piece of one decode session. Between
clips that session holds its conv caches (`decode_session_bytes`); the plan assumes they wait in
host memory while the next clip samples, so they do not add to the sampling phase.

Memory does not grow with the video's length: a clip's running sum lives from its first pass until the clip
after it starts, and between clips only the text prefix and one clip's final-scale K/V are held. That K/V (31,800
tokens at 480p, 72,000 at 720p) is the largest thing a long video holds besides the weights; `kv_placement`
"host" keeps it in host memory and streams it to the device layer by layer (engine.sampler, `kv_on_host`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch

from engine.config import Preset, TransformerConfig
from engine.model.transformer import InfinityStarTransformer, token_chunk
from engine.model.vae import Tiling
from engine.runtime.decode_plan import DecodeSettings, decode_peak_bytes, session_cache_bytes
from engine.runtime.precision import KV_PLACEMENTS, check_precision, compute_bytes, tensor_bytes
from engine.schedule import Schedule, build_interact_schedule, build_schedule

# flan-t5-xl encoder: 24 layers, d_model 2048, 32 heads x 64, gated-GELU FFN 5120, vocab 32128.
TEXT_ENCODER_PARAMS = {
    "flan-t5-xl": 24 * (4 * 2048 * 2048 + 3 * 2048 * 5120 + 2 * 2048) + 32128 * 2048 + 2048 + 32 * 32,
    "toyworld-words": 281_856,  # engine/text/words.py at the toyworld preset (106 words, 128 channels, 2 layers)
    "none": 0,
}

# transformers keeps T5's FFN output projections (wo) in float32 when the rest runs in 16 bit.
TEXT_ENCODER_FP32_PARAMS = {"flan-t5-xl": 24 * 5120 * 2048, "toyworld-words": 0, "none": 0}


def text_encoder_bytes(name: str, precision: str) -> int:
    element = compute_bytes(precision)
    return TEXT_ENCODER_PARAMS[name] * element + TEXT_ENCODER_FP32_PARAMS[name] * (4 - element)


# Decode settings from the reference's (fp32, 2 latent frames a chunk) to the leanest, in the order their
# cost rises: smaller chunks (exact, a little slower), the transformer offloaded to CPU while decoding
# (exact, two weight transfers per clip), then a bf16 VAE (rounding). Tiling is not on the ladder: every tile
# keeps its own conv caches, which at one latent frame a chunk outweigh the activations it saves.
DECODE_LADDER = (
    DecodeSettings("fp32", 2),
    DecodeSettings("fp32", 1),
    DecodeSettings("fp32", 1, offload_transformer=True),
    DecodeSettings("bf16", 1),
    DecodeSettings("bf16", 1, offload_transformer=True),
)
# Without a budget: the lightest step that keeps the 8B at nf4 under 12 GB at 720p and 8 GB at 480p.
DEFAULT_DECODE = DecodeSettings("bf16", 1)
GB = 1e9


@dataclass
class Plan:
    preset: str
    seconds: int
    aspect: float
    precision: str
    batch: int
    rows: int
    text_tokens: int
    token_chunk: int
    passes: int
    tokens: int
    largest_pass: int
    params: int
    flops: int
    flops_per_pass: list[int]
    weight_bytes: int
    kv_peak_bytes: int
    activation_peak_bytes: int
    decode_dtype: str
    decode_chunk_latents: int | None
    decode_tiling: Tiling | None
    offload_transformer_for_decode: bool
    decode_session_bytes: int
    kv_placement: str
    host_kv_bytes: int  # host memory the kept K/V needs at most (kv_placement "host")
    text_encoder_on_cpu: bool
    text_encoder_bytes: int
    peak_bytes: int
    phases: dict[str, int] = field(default_factory=dict)  # each phase's whole footprint; the peak is the largest
    resident: dict[str, int] = field(default_factory=dict)  # what every phase holds, counted in each of them

    def to_dict(self) -> dict:
        return asdict(self)

    def added(self) -> dict[str, int]:
        """Per phase, what it holds on top of the resident part."""
        resident = sum(self.resident.values())
        return {phase: size - resident for phase, size in self.phases.items()}

    def breakdown(self) -> list[str]:
        """Lines whose figures add up to the peak: the resident part, each phase's own part, and their sum."""
        added = self.added()
        largest = max(added, key=added.get)
        top = f"{largest} {added[largest] / GB:.2f}"
        each = ", ".join(f"{phase} {size / GB:.2f}" for phase, size in added.items())
        if not self.resident:
            return [f"each phase holds: {each}", f"peak {self.peak_bytes / GB:.2f} GB = {top}"]
        resident = sum(self.resident.values())
        parts = ", ".join(f"{name} {size / GB:.2f}" for name, size in self.resident.items())
        return [
            f"resident in every phase {resident / GB:.2f} GB: {parts}",
            f"each phase adds: {each}",
            f"peak {self.peak_bytes / GB:.2f} GB = resident {resident / GB:.2f} + {top}",
        ]


def transformer_weights(cfg: TransformerConfig, precision: str) -> tuple[int, int]:
    """(parameter count, stored bytes) of the transformer at a precision, from its meta-device state dict."""
    with torch.device("meta"):
        model = InfinityStarTransformer(cfg)
    params = stored = 0
    for name, tensor in model.state_dict().items():
        params += tensor.numel()
        stored += tensor_bytes(name, tuple(tensor.shape), precision)
    return params, stored


def pass_flops(cfg: TransformerConfig, rows: int, tokens: int, keys: int, bits: int) -> int:
    """Multiply-adds x 2 of one pass: block linears, attention over `keys` keys, embedding and head."""
    w, q, kv, hidden = cfg.width, cfg.heads * cfg.head_dim, cfg.kv_heads * cfg.head_dim, cfg.mlp_hidden_size
    linear = w * q + 2 * w * kv + q * w + 3 * w * hidden
    attention = 2 * cfg.heads * keys * cfg.head_dim
    per_token = cfg.depth * (linear + attention) + cfg.latent_channels * w + w * 2 * bits
    return 2 * rows * tokens * per_token


def kv_bytes(cfg: TransformerConfig, rows: int, tokens: int, element: int) -> int:
    """K and V of `tokens` tokens in every layer."""
    return cfg.depth * 2 * rows * cfg.kv_heads * tokens * cfg.head_dim * element


def block_peak_bytes(cfg: TransformerConfig, rows: int, n: int, past: int, chunk: int, element: int) -> int:
    """Largest moment inside one block call over n tokens seeing `past` cached tokens, the input x included."""
    w, q, kvd, hidden = cfg.width, cfg.heads * cfg.head_dim, cfg.kv_heads * cfg.head_dim, cfg.mlp_hidden_size
    rope = 4 if element == 4 else 4 + 4 + element  # float32 copy, complex product, cast back
    x = rows * n * w * element
    if n <= chunk:
        t = rows * n
        own_kv = 2 * t * kvd * element
        concat = 2 * rows * (past + n) * kvd * element if past else 0
        # normed input, fused q/k/v output, normed q and its rotation
        project = t * w * element + t * (q + 2 * kvd) * element + t * q * (element + rope)
        # grouped q, own k/v, concatenated keys/values, SDPA output and its reshape
        attend = t * q * element + own_kv + concat + 2 * t * q * element
        # y = x + attn, normed y, gate/up output, activated hidden; own k/v are still held
        mlp = 2 * t * w * element + own_kv + 3 * t * hidden * element
        return x + max(project, attend, mlp)
    t = rows * chunk
    buffers = 2 * rows * (past + n) * kvd * element
    project_kv = t * w * element + 2 * t * kvd * element + t * kvd * (element + rope) + t * kvd * element
    project_q = t * w * element + t * q * element + t * q * (element + rope)
    attend = 3 * t * q * element
    mlp = 2 * t * w * element + 3 * t * hidden * element
    return x + buffers + max(project_kv, project_q, attend, mlp)


def head_peak_bytes(cfg: TransformerConfig, rows: int, n: int, chunk: int, bits: int, element: int) -> int:
    """Logits, their tau-scaled copy and the guidance temporaries (float64 projection), x included."""
    logits = rows * n * 2 * bits * 4
    per_chunk = rows * min(n, chunk) * cfg.width * (element + 4)
    return rows * n * cfg.width * element + per_chunk + 6 * logits


def _cache_moment(seen: int, own: int, releasing: bool, layers: int) -> int:
    """Kept K/V bytes at the fullest moment of a pass that reads `seen` bytes of them and keeps `own` of its own: a
    pass that is the last to read them drops each layer once used, while its own grow layer by layer."""
    if releasing:
        return max(seen + own // layers, own + seen // layers)
    return seen + own


def clip_decode_bytes(preset: Preset, schedule: Schedule, settings: DecodeSettings) -> list[int]:
    """Peak bytes of the VAE decoding each clip's latent for one video, as the next piece of one decode session."""
    _, h, w = schedule.latent_shape
    last = len(schedule.clip_lengths) - 1
    return [
        decode_peak_bytes(
            preset.vae, t, h, w, settings.element, settings.chunk_latents, settings.tiling, clip == 0, clip == last
        )
        for clip, t in enumerate(schedule.clip_lengths)
    ]


def plan_schedule(
    preset: Preset,
    schedule: Schedule,
    precision: str = "bf16",
    batch: int = 1,
    text_tokens: int | None = None,
    with_uncond: bool | None = None,
    chunk_budget: int | None = None,
    decode: DecodeSettings | None = None,
    memory_budget: float | None = None,
    text_encoder_on_cpu: bool = False,
    decode_ladder: Sequence[DecodeSettings] = DECODE_LADDER,
    kv_placement: str = "device",
    text_encoder_resident: bool = False,
) -> Plan:
    """`decode` fixes the decode settings; otherwise the first step of `decode_ladder` whose plan fits
    `memory_budget` bytes (the last step if none does), or DEFAULT_DECODE without a budget.
    With `text_encoder_on_cpu` the prompt is encoded in host memory and only its features reach the device;
    `text_encoder_resident` counts the text encoder in every phase (a CPU device: host memory is the device's, and
    the encoder stays loaded for the next prompt). `kv_placement` says where kept K/V live (KV_PLACEMENTS)."""
    cfg = preset.transformer
    check_precision(precision)
    if kv_placement not in KV_PLACEMENTS:
        raise ValueError(f"kv_placement must be one of {KV_PLACEMENTS}, got {kv_placement!r}")
    on_host = kv_placement == "host"
    element = compute_bytes(precision)
    text_tokens = cfg.text_maxlen if text_tokens is None else text_tokens
    if with_uncond is None:
        with_uncond = preset.schedule.guidance_scale != 1
    rows = batch * (2 if with_uncond else 1)
    chunk = token_chunk(cfg, rows, element, chunk_budget)
    params, weights = transformer_weights(cfg, precision)
    prefix = text_tokens + sum(c.tokens for c in schedule.conditions)
    _, full_h, full_w = schedule.latent_shape
    # the running sum of the clip being sampled, and the latent of the one before while it is decoded
    sums = batch * cfg.latent_channels * 2 * max(schedule.clip_lengths) * full_h * full_w * 4
    kept: dict[int, int] = {}
    held = [0] * schedule.clips
    flops = [pass_flops(cfg, rows, text_tokens, text_tokens, 0)]
    prefix_kv = kv_bytes(cfg, rows, prefix, element)
    kv_peak = prefix_kv
    host_peak = 0
    activation_peak = running_peak = block_peak_bytes(cfg, rows, prefix, 0, chunk, element)
    for p in schedule.passes:
        past = prefix + sum(schedule.scales[s].tokens for s in p.sees)
        bits = cfg.semantic_bits if p.semantic else cfg.detail_bits
        flops.append(pass_flops(cfg, rows, p.tokens, past + p.tokens, bits))
        seen = sum(kept[s] for s in p.sees)
        own = kv_bytes(cfg, rows, p.tokens, element) if p.keeps else 0
        others = sum(v for s, v in kept.items() if s not in p.sees)
        moment = others + _cache_moment(seen, own, any(s in p.sees for s in p.releases), cfg.depth)
        if on_host:
            # on the device: the layer of what it sees brought over, its own layer and the copy going back
            cache = prefix_kv + seen // cfg.depth + 2 * own // cfg.depth
            host_peak = max(host_peak, moment)
        else:
            cache = prefix_kv + moment + own // cfg.depth  # a layer's own K/V copied out of a chunked pass's buffer
        rotations = p.tokens * (cfg.head_dim // 2 * 8 + 4 * 4)  # complex64 rotations and their positions
        activation = sums + rotations + max(
            block_peak_bytes(cfg, rows, p.tokens, past, chunk, element),
            head_peak_bytes(cfg, rows, p.tokens, chunk, bits, element),
        )
        kv_peak = max(kv_peak, cache)
        activation_peak = max(activation_peak, activation)
        running_peak = max(running_peak, cache + activation)
        if p.keeps:
            kept[p.scale] = own
        for released in p.releases:
            kept.pop(released, None)
        # ends as what the clip's last pass leaves, the device's share of it
        held[p.clip] = prefix_kv + (0 if on_host else sum(kept.values()))
    encoder_bytes = text_encoder_bytes(preset.text_encoder, precision)
    kept_encoder = encoder_bytes if text_encoder_resident else 0
    sampling = kept_encoder + weights + running_peak
    text_encoder = weights + (encoder_bytes if text_encoder_resident or not text_encoder_on_cpu else 0)

    def decode_bytes(settings: DecodeSettings) -> int:
        # Each clip decodes when its last pass is done, videos one at a time, beside the running sums, the K/V
        # the generator holds for the next clip and, unless offloaded, the transformer.
        resident = kept_encoder + sums + (0 if settings.offload_transformer else weights)
        vae = clip_decode_bytes(preset, schedule, settings)
        return resident + max(kv + peak for kv, peak in zip(held, vae, strict=True))

    if decode is None and memory_budget is None:
        decode = DEFAULT_DECODE
    elif decode is None:
        fitting = (s for s in decode_ladder if max(sampling, text_encoder, decode_bytes(s)) <= memory_budget)
        decode = next(fitting, decode_ladder[-1])
    decoding = decode_bytes(decode)
    resident = {"transformer": weights} if not decode.offload_transformer else {}
    if kept_encoder:
        resident["text encoder"] = kept_encoder
    return Plan(
        preset=preset.name,
        seconds=schedule.seconds,
        aspect=schedule.aspect,
        precision=precision,
        batch=batch,
        rows=rows,
        text_tokens=text_tokens,
        token_chunk=chunk,
        passes=len(schedule.passes),
        tokens=schedule.query_tokens,
        largest_pass=schedule.largest_pass,
        params=params,
        flops=sum(flops),
        flops_per_pass=flops,
        weight_bytes=weights,
        kv_peak_bytes=kv_peak,
        activation_peak_bytes=activation_peak,
        decode_dtype=decode.dtype,
        decode_chunk_latents=decode.chunk_latents,
        decode_tiling=decode.tiling,
        offload_transformer_for_decode=decode.offload_transformer,
        decode_session_bytes=session_cache_bytes(
            preset.vae, schedule.latent_shape[1], schedule.latent_shape[2], decode.element, decode.tiling
        )
        * batch,
        kv_placement=kv_placement,
        host_kv_bytes=host_peak,
        text_encoder_on_cpu=text_encoder_on_cpu,
        text_encoder_bytes=encoder_bytes,
        peak_bytes=max(sampling, text_encoder, decoding),
        phases={"text_encoder": text_encoder, "sampling": sampling, "decode": decoding},
        resident=resident,
    )


def plan(
    preset: Preset,
    seconds: int,
    aspect: str | float = "16:9",
    precision: str = "bf16",
    batch: int = 1,
    text_tokens: int | None = None,
    chunk_budget: int | None = None,
    decode: DecodeSettings | None = None,
    memory_budget: float | None = None,
    text_encoder_on_cpu: bool = False,
    decode_ladder: Sequence[DecodeSettings] = DECODE_LADDER,
    kv_placement: str | None = None,
    text_encoder_resident: bool = False,
) -> Plan:
    """The plan of one generation of `seconds` (Interact presets: one 5 s segment); see plan_schedule for
    how `decode` and `memory_budget` set the decode. `kv_placement` None: the K/V stay on the device unless a
    budget is given that only host memory for them fits."""
    if preset.mode == "interact":
        schedule = build_interact_schedule(preset.schedule, aspect)
    else:
        schedule = build_schedule(preset.schedule, seconds, aspect)
    placements = (kv_placement,) if kv_placement else KV_PLACEMENTS if memory_budget is not None else ("device",)
    for placement in placements:
        result = plan_schedule(
            preset, schedule, precision, batch, text_tokens,
            chunk_budget=chunk_budget, decode=decode, memory_budget=memory_budget,
            text_encoder_on_cpu=text_encoder_on_cpu, decode_ladder=decode_ladder, kv_placement=placement,
            text_encoder_resident=text_encoder_resident,
        )
        if memory_budget is None or result.peak_bytes <= memory_budget:
            break
    return result
