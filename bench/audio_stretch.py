"""Sound of a sped clip at its own pitch (desktop/media/stretch.py, WSOLA) against the tape-like resampling a clip
uses with Keep pitch off: seconds of compute per second of sound made, and how often faster than real time.

    python bench/audio_stretch.py [--seconds 60] [--rate 48000]

The input is a voice-like stereo signal (a 140 Hz fundamental with its first harmonics, its pitch gliding, under a
little noise). The stretched sound is made once per clip file and speed and then kept (AudioCache), so its time is
what the first playback or export of a sped clip waits for. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from desktop.media.stretch import stretched

SPEEDS = (0.5, 0.8, 1.25, 2.0)


def voice_like(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    pitch = 140 * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    wave = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.1
    noise = np.random.default_rng(0).normal(0, 0.005, len(t))
    return np.stack([wave + noise, 0.8 * wave + noise], axis=1).astype(np.float32)


def tape(samples: np.ndarray, speed: float) -> np.ndarray:
    """The resampling of a clip with Keep pitch off: linear interpolation at the clip's pace."""
    at = np.arange(0, len(samples) - 1, speed)
    below = at.astype(np.int64)
    share = (at - below).astype(np.float32)[:, None]
    return samples[below] * (1 - share) + samples[below + 1] * share


def timed(make, samples: np.ndarray, speed: float) -> tuple[float, int]:
    start = time.perf_counter()
    out = make(samples, speed)
    return time.perf_counter() - start, len(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the input sound")
    parser.add_argument("--rate", type=int, default=48000)
    args = parser.parse_args()
    samples = voice_like(args.seconds, args.rate)
    print(f"{args.seconds:g} s of voice-like stereo at {args.rate} Hz")
    for speed in SPEEDS:
        wsola, made = timed(stretched, samples, speed)
        resampled, _ = timed(tape, samples, speed)
        sound = made / args.rate
        print(f"  speed {speed:4}: {sound:6.1f} s of sound; keep pitch {wsola:.2f} s ({sound / wsola:.0f}x real time), "
              f"tape {resampled:.3f} s; keep pitch / tape {wsola / resampled:.0f}x")


if __name__ == "__main__":
    main()
