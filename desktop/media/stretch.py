"""Sound played faster or slower at its own pitch, by WSOLA (waveform-similarity overlap-add).

The output is made of grains of FRAME samples under a Hann window, laid HOP apart (half a frame, where the windows
sum to one). Grain k stands for input position k * HOP * speed, moved by up to SEEK samples either way to where the
input looks most like what the grain before it would have gone on with (the cross-correlation of their overlapping
halves, on the channels' mean), so the overlapped waveforms line up and no beat or click is heard. Speech and music
keep their pitch; their rhythm follows the pace.
"""

from __future__ import annotations

import math

import numpy as np

FRAME = 2048  # 43 ms at 48 kHz: a few periods of the lowest voices
HOP = FRAME // 2
SEEK = 384  # 8 ms either way: a whole period of a 125 Hz voice
_FFT = 1 << math.ceil(math.log2(HOP + 2 * SEEK + HOP))
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / FRAME)).astype(np.float32)  # periodic Hann


def stretched(samples: np.ndarray, speed: float) -> np.ndarray:
    """float32 [m, channels] of `samples` [n, channels] at `speed` times their pace and at their own pitch: about
    n / speed samples, output sample j standing for input sample j * speed."""
    n, channels = samples.shape
    length = math.ceil(n / speed)
    grains = math.ceil(length / HOP) + 2
    pad = FRAME + SEEK + HOP  # reads before the start and past the end are silence
    source = np.zeros((n + 2 * pad + math.ceil(grains * HOP * speed), channels), np.float32)
    source[pad : pad + n] = samples
    mono = source.mean(axis=1)
    out = np.zeros(((grains + 1) * HOP + FRAME, channels), np.float32)
    previous = None
    for k in range(grains):
        # grain k covers output [(k - 1) * HOP, (k + 1) * HOP): one grain ahead, so the first samples are whole
        at = pad + round((k - 1) * HOP * speed)
        if previous is not None:
            at += _best_shift(mono, previous + HOP, at)
        out[k * HOP : k * HOP + FRAME] += _WINDOW[:, None] * source[at : at + FRAME]
        previous = at
    return out[HOP : HOP + length]


def _best_shift(mono: np.ndarray, natural: int, nominal: int) -> int:
    """The shift within +-SEEK of input position `nominal` whose first HOP samples correlate best with those at
    `natural` (where the grain before would have gone on)."""
    template = mono[natural : natural + HOP]
    region = mono[nominal - SEEK : nominal + SEEK + HOP]
    spectrum = np.fft.rfft(region, _FFT) * np.conj(np.fft.rfft(template, _FFT))
    correlation = np.fft.irfft(spectrum, _FFT)[: 2 * SEEK + 1]
    return int(np.argmax(correlation)) - SEEK
