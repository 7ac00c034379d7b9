"""The InfinityStar decoder: text prefix, Qwen3-style blocks with GQA and 4-axis RoPE, two bit heads.

Parameter names and shapes are the released checkpoint's, so its state dict loads unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from engine.config import TransformerConfig
from engine.model.rope import apply_rope

KV = tuple[torch.Tensor, torch.Tensor]
Span = tuple[tuple[int, int], torch.Tensor]  # a block of tokens (start, end) and the indices of the keys it sees
KeyView = tuple[torch.Tensor, torch.Tensor]  # extra keys: the indices of keys to copy, and the turn to apply to them

# Per-chunk temporaries (MLP hidden activations) are kept near this size; the planner uses the same rule.
TOKEN_CHUNK_BUDGET_BYTES = 256 * 2**20
MIN_TOKEN_CHUNK = 256


def token_chunk(cfg: TransformerConfig, rows: int, element_bytes: int, budget: int | None = None) -> int:
    """Tokens per chunk so that one chunk's MLP hidden activation stays near the budget (bytes)."""
    per_token = rows * cfg.mlp_hidden_size * element_bytes
    return max(MIN_TOKEN_CHUNK, (budget or TOKEN_CHUNK_BUDGET_BYTES) // max(per_token, 1))


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the last axis, the statistics in float32.

    Taken from the vector norm: on CPU that is several times faster than a mean of squares.
    """
    square = torch.linalg.vector_norm(x, dim=-1, keepdim=True, dtype=torch.float32).square()
    scale = torch.rsqrt(square / x.shape[-1] + eps)
    return (x * scale).to(x.dtype) * weight


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rms_norm(x, self.weight, self.eps)


def _fuse_weights(linears: Sequence[nn.Linear]) -> torch.Tensor | None:
    """Store several bias-free weights in one tensor (they become views of it), so one GEMM serves all.

    Only plain dense weights can share storage; quantised layers keep their own and return None.
    """
    if any(type(m) is not nn.Linear or m.weight.is_meta for m in linears):
        return None
    fused = torch.cat([m.weight.detach() for m in linears])
    start = 0
    for m in linears:
        rows = m.weight.shape[0]
        m.weight.data = fused[start : start + rows]
        start += rows
    return fused


class Attention(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = cfg.heads, cfg.kv_heads, cfg.head_dim
        self.eps = cfg.norm_eps
        self.q_proj = nn.Linear(cfg.width, cfg.heads * cfg.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.width, cfg.kv_heads * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.width, cfg.kv_heads * cfg.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.heads * cfg.head_dim, cfg.width, bias=False)
        self.q_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)
        self.k_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)
        self.qkv_weight: torch.Tensor | None = None

    def fuse(self) -> None:
        self.qkv_weight = _fuse_weights((self.q_proj, self.k_proj, self.v_proj))

    def _split(self, h: torch.Tensor, want_q: bool, want_kv: bool) -> list[torch.Tensor | None]:
        """Projections of h [B, n, width] as [B, n, heads, head_dim] (None where not wanted)."""
        b, n, _ = h.shape
        q_rows = self.heads * self.head_dim
        if self.qkv_weight is not None:
            weight = self.qkv_weight[(0 if want_q else q_rows) : (None if want_kv else q_rows)]
            out = F.linear(h, weight).view(b, n, -1, self.head_dim)
            q = out[:, :, : self.heads] if want_q else None
            kv = out[:, :, self.heads if want_q else 0 :] if want_kv else None
            k, v = (kv[:, :, : self.kv_heads], kv[:, :, self.kv_heads :]) if want_kv else (None, None)
            return [q, k, v]
        q = self.q_proj(h).view(b, n, self.heads, self.head_dim) if want_q else None
        k = self.k_proj(h).view(b, n, self.kv_heads, self.head_dim) if want_kv else None
        v = self.v_proj(h).view(b, n, self.kv_heads, self.head_dim) if want_kv else None
        return [q, k, v]

    def _queries(self, q: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
        """[B, n, heads, D] -> normalised, rotated, grouped [B, kv_heads, group * n, D].

        The query heads sharing one K/V head are stacked along the sequence axis, so the
        grouped K/V are used as they are, never repeated per query head.
        """
        b, n = q.shape[:2]
        q = apply_rope(rms_norm(q, self.q_norm.weight, self.eps), rotations[:, None])
        return q.transpose(1, 2).reshape(b, self.kv_heads, (self.heads // self.kv_heads) * n, self.head_dim)

    def _keys(self, k: torch.Tensor, v: torch.Tensor, rotations: torch.Tensor) -> KV:
        # v is copied out so the fused projection output is not kept alive by a cached view of it
        k = apply_rope(rms_norm(k, self.k_norm.weight, self.eps), rotations[:, None])
        return k.transpose(1, 2), v.transpose(1, 2).contiguous()

    def project(self, h: torch.Tensor, rotations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Grouped queries and this chunk's keys/values [B, kv_heads, n, D]."""
        q, k, v = self._split(h, True, True)
        return self._queries(q, rotations), *self._keys(k, v, rotations)

    def project_kv(self, h: torch.Tensor, rotations: torch.Tensor) -> KV:
        _, k, v = self._split(h, False, True)
        return self._keys(k, v, rotations)

    def project_q(self, h: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
        return self._queries(self._split(h, True, False)[0], rotations)

    def attend(
        self, q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Grouped queries against keys/values [B, kv_heads, S, D] -> output [B, n, width] (o_proj applied)."""
        b, _, gn, _ = q.shape
        n = gn * self.kv_heads // self.heads
        if mask is not None:
            mask = mask.repeat(self.heads // self.kv_heads, 1)
        out = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
        out = out.view(b, self.heads, n, self.head_dim).transpose(1, 2).reshape(b, n, -1)
        return self.o_proj(out)

    def attend_spans(
        self, q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, spans: Sequence[Span]
    ) -> torch.Tensor:
        """Like attend, but the queries of each span (start, end) see only the keys at its index tensor."""
        b, _, gn, d = q.shape
        group = self.heads // self.kv_heads
        n = gn // group
        q = q.view(b, self.kv_heads, group, n, d)
        outs = []
        for (start, end), index in spans:
            span_q = q[:, :, :, start:end].reshape(b, self.kv_heads, group * (end - start), d)
            out = F.scaled_dot_product_attention(span_q, keys.index_select(2, index), values.index_select(2, index))
            outs.append(out.view(b, self.kv_heads, group, end - start, d))
        out = torch.cat(outs, dim=3).view(b, self.heads, n, d).transpose(1, 2).reshape(b, n, -1)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        hidden = cfg.mlp_hidden_size
        self.gate_proj = nn.Linear(cfg.width, hidden, bias=False)
        self.up_proj = nn.Linear(cfg.width, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, cfg.width, bias=False)
        self.gate_up_weight: torch.Tensor | None = None

    def fuse(self) -> None:
        self.gate_up_weight = _fuse_weights((self.gate_proj, self.up_proj))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gate_up_weight is not None:
            gate, up = F.linear(x, self.gate_up_weight).chunk(2, dim=-1)
        else:
            gate, up = self.gate_proj(x), self.up_proj(x)
        hidden = F.silu(gate)
        hidden = hidden * up if torch.is_grad_enabled() else hidden.mul_(up)
        del gate, up
        return self.down_proj(hidden)


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.width, cfg.norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.width, cfg.norm_eps)

    def forward(
        self,
        x: torch.Tensor,
        rotations: torch.Tensor,
        past: Sequence[KV] = (),
        chunk: int | None = None,
    ) -> tuple[torch.Tensor, KV]:
        """One block over the n tokens of x [B, n, width], which also see the cached `past` K/V.

        Returns the new hidden states and this pass's own keys/values [B, kv_heads, n, D]. Without
        autograd, more than `chunk` tokens run in token chunks and x is overwritten in place.
        """
        n = x.shape[1]
        if chunk is None or n <= chunk or torch.is_grad_enabled():
            return self._whole(x, rotations, past)
        return self._chunked(x, rotations, past, chunk)

    def _mlp_residual(self, y: torch.Tensor) -> torch.Tensor:
        return y + self.mlp(self.post_attention_layernorm(y))

    def forward_packed(
        self, x: torch.Tensor, rotations: torch.Tensor, spans: Sequence[Span], mask: torch.Tensor | None = None,
        views: Sequence[KeyView] = (),
    ) -> torch.Tensor:
        """One block over packed blocks of tokens x [B, n, width] (the teacher-forced forward): each span sees only
        its own keys, or, given the boolean [n, n + viewed] `mask` that says the same, every token attends over all
        keys. `views` append turned copies of some keys (with their values) after the n: a block seen from
        another RoPE place than its own."""
        q, k, v = self.attn.project(self.input_layernorm(x), rotations)
        if views:
            k = torch.cat([k, *(apply_rope(k.index_select(2, index), turn) for index, turn in views)], dim=2)
            v = torch.cat([v, *(v.index_select(2, index) for index, _ in views)], dim=2)
        attended = self.attn.attend_spans(q, k, v, spans) if mask is None else self.attn.attend(q, k, v, mask)
        return self._mlp_residual(x + attended)

    def _whole(self, x: torch.Tensor, rotations: torch.Tensor, past: Sequence[KV]) -> tuple[torch.Tensor, KV]:
        q, k, v = self.attn.project(self.input_layernorm(x), rotations)
        keys = torch.cat([pk for pk, _ in past] + [k], dim=2) if past else k
        values = torch.cat([pv for _, pv in past] + [v], dim=2) if past else v
        attended = self.attn.attend(q, keys, values)
        del q, keys, values
        y = x + attended
        del attended
        return self._mlp_residual(y), (k, v)

    def _chunked(
        self, x: torch.Tensor, rotations: torch.Tensor, past: Sequence[KV], chunk: int
    ) -> tuple[torch.Tensor, KV]:
        """Token chunks, x updated in place: only x, the K/V and one chunk's temporaries are alive at once."""
        b, n, _ = x.shape
        attn = self.attn
        held = sum(k.shape[2] for k, _ in past)
        keys = x.new_empty(b, attn.kv_heads, held + n, attn.head_dim)
        values = torch.empty_like(keys)
        start = 0
        for k, v in past:
            keys[:, :, start : start + k.shape[2]] = k
            values[:, :, start : start + k.shape[2]] = v
            start += k.shape[2]
        spans = [(s, min(s + chunk, n)) for s in range(0, n, chunk)]
        for s, e in spans:
            k, v = attn.project_kv(self.input_layernorm(x[:, s:e]), rotations[s:e])
            keys[:, :, held + s : held + e] = k
            values[:, :, held + s : held + e] = v
        for s, e in spans:
            q = attn.project_q(self.input_layernorm(x[:, s:e]), rotations[s:e])
            y = x[:, s:e] + attn.attend(q, keys, values)
            del q
            x[:, s:e] = self._mlp_residual(y)
            del y
        return x, (keys[:, :, held:], values[:, :, held:])


class BlockChunk(nn.Module):
    """A group of consecutive blocks; exists so the state-dict names match the release."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.module = nn.ModuleList(Block(cfg) for _ in range(cfg.blocks_per_chunk))


class InfinityStarTransformer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.cfg_uncond = nn.Parameter(torch.empty(cfg.text_maxlen, cfg.text_channels))
        self.sos_token = nn.Parameter(torch.empty(1, 1, cfg.width))  # in the release, unused by inference
        self.text_proj = nn.Linear(cfg.text_channels, cfg.width)
        self.word_embed = nn.Linear(cfg.latent_channels, cfg.width)
        self.norm_hidden_sates = RMSNorm(cfg.width, cfg.norm_eps)
        self.head = nn.Linear(cfg.width, 2 * cfg.detail_bits)
        self.semantic_head2 = nn.Linear(cfg.width, 2 * cfg.semantic_bits)
        self.block_chunks = nn.ModuleList(BlockChunk(cfg) for _ in range(cfg.block_chunks))
        if not self.cfg_uncond.is_meta:
            nn.init.normal_(self.cfg_uncond, std=0.02)
            nn.init.normal_(self.sos_token, std=0.02)

    def blocks(self) -> Iterator[Block]:
        for chunk in self.block_chunks:
            yield from chunk.module

    def fuse_projections(self) -> InfinityStarTransformer:
        """After loading: let q/k/v and gate/up share storage so each group runs as one GEMM."""
        for block in self.blocks():
            block.attn.fuse()
            block.mlp.fuse()
        return self

    @property
    def compute_dtype(self) -> torch.dtype:
        return self.word_embed.weight.dtype

    def text_tokens(self, text: torch.Tensor, batch: int, with_uncond: bool) -> torch.Tensor:
        """Text features [L, text_channels] (or one prompt per video, [batch, L, text_channels]) -> prefix
        tokens [rows, L, width].

        Rows are the `batch` videos' prompts, then (with_uncond) `batch` copies of the learned uncond.
        """
        rows = list(text) if text.dim() == 3 else [text] * batch
        if with_uncond:
            rows += [self.cfg_uncond[: text.shape[-2]]] * batch
        return self.text_proj(torch.stack(rows).to(self.compute_dtype))

    def embed_latent(self, features: torch.Tensor, rows: int) -> torch.Tensor:
        """Latent features [b, C, t, h, w] -> tokens [rows, t*h*w, width] in (t, h, w) order.

        Rows repeat the b videos (cond rows then uncond rows see the same visual input).
        """
        tokens = self.word_embed(features.flatten(2).transpose(1, 2).to(self.compute_dtype))
        return tokens.repeat(rows // tokens.shape[0], 1, 1)

    def bit_logits(self, x: torch.Tensor, semantic: bool, chunk: int | None = None) -> torch.Tensor:
        """Hidden states [B, n, width] -> float32 logits [B, n, 2*bits]; column 2j/2j+1 = bit j is 0/1."""
        head = self.semantic_head2 if semantic else self.head
        weight, bias = head.weight.float(), head.bias.float()
        step = x.shape[1] if chunk is None else max(1, chunk)
        parts = [
            F.linear(self.norm_hidden_sates(x[:, s : s + step]).float(), weight, bias)
            for s in range(0, x.shape[1], step)
        ]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
