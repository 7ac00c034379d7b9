"""Time left in a generation, from the rates this run has shown so far."""

from __future__ import annotations

from engine.schedule import Schedule


class Eta:
    """Passes still to sample at this run's seconds per token, plus clips still to decode at its seconds per
    latent frame. Forced passes are left out (most are never run), and clips before `first_decoded` (a
    continuation's earliest, which are not decoded). Decoding is counted from the first decoded clip on; before
    any pass was sampled there is no estimate."""

    def __init__(self, schedule: Schedule, forced: int, first_decoded: int = 0) -> None:
        self.passes = schedule.passes
        self.forced = forced
        self.tokens_left = sum(p.tokens for p in self.passes[forced:])
        self.latent_frames_left = sum(schedule.clip_lengths[first_decoded:])
        self.sampled_tokens = self.sampling_seconds = 0.0
        self.decoded_frames = self.decode_seconds = 0.0

    def pass_done(self, index: int, seconds: float) -> None:
        if index < self.forced:
            return
        tokens = self.passes[index].tokens
        self.tokens_left -= tokens
        self.sampled_tokens += tokens
        self.sampling_seconds += seconds

    def clip_decoded(self, latent_frames: int, seconds: float) -> None:
        self.latent_frames_left -= latent_frames
        self.decoded_frames += latent_frames
        self.decode_seconds += seconds

    @property
    def seconds(self) -> float | None:
        if not self.sampled_tokens:
            return None
        left = self.tokens_left * self.sampling_seconds / self.sampled_tokens
        if self.decoded_frames:
            left += self.latent_frames_left * self.decode_seconds / self.decoded_frames
        return left
