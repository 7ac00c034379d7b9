"""Voice-over: a WAV as long as the recording, levels while recording, and a clear message without a microphone."""

from __future__ import annotations

import time
import wave

from desktop.player.level_meter import LevelMeter, meter_fraction
from desktop.player.voice_over import NO_INPUT_MESSAGE, VoiceOverRecorder

WAIT_MS = 20_000  # a wait for an event: only a hang runs it out


def test_recording_writes_a_wav_as_long_as_the_recording(null_audio, qtbot, tmp_path):
    """Every sample the microphone gave is in the file (counted, not timed against the wall clock), and no more
    than real time allows: a slow machine passes as a fast one does."""
    recorder = VoiceOverRecorder()
    meter = LevelMeter()
    qtbot.addWidget(meter)
    levels = []
    recorder.level.connect(lambda rms, peak: levels.append((rms, peak)))
    recorder.level.connect(meter.set_level)
    given = []
    take = recorder._take
    recorder._take = lambda indata, frames, *rest: (given.append(frames), take(indata, frames, *rest))
    folder = tmp_path / "recordings"
    folder.mkdir()
    target = folder / "voice.wav"
    started = time.monotonic()
    assert recorder.start(target) and recorder.is_recording
    qtbot.waitUntil(lambda: sum(given) >= 48000 // 2, timeout=WAIT_MS)  # half a second recorded
    path = recorder.stop()
    recorded = time.monotonic() - started
    assert path == target and not recorder.is_recording
    with wave.open(str(target)) as wav:
        samples = wav.getnframes()
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 48000)
    assert samples == sum(given) == recorder.frames_written  # the whole recording, to its last block
    assert samples / 48000 <= recorded + 0.5, (samples, recorded)  # real time, but for the pacer's slack
    assert levels and levels[-1] == (0.0, 0.0)  # silence from the null device; the meter is reset at the end
    assert list(folder.iterdir()) == [target]  # the temporary file was renamed, not left behind


def test_without_a_microphone_it_says_so_and_writes_nothing(no_audio, qtbot, tmp_path):
    recorder = VoiceOverRecorder()
    with qtbot.waitSignal(recorder.message, timeout=WAIT_MS) as said:
        assert not recorder.start(tmp_path / "voice.wav")
    assert said.args == [NO_INPUT_MESSAGE] and not recorder.is_recording
    assert recorder.stop() is None and not (tmp_path / "voice.wav").exists()


def test_the_meter_scale():
    assert meter_fraction(0.0) == 0.0 and meter_fraction(1.0) == 1.0 and meter_fraction(2.0) == 1.0
    assert abs(meter_fraction(0.1) - 2 / 3) < 1e-9  # -20 dBFS on a -60..0 scale


def test_a_file_that_cannot_be_written_is_reported(null_audio, qtbot, tmp_path):
    recorder = VoiceOverRecorder()
    messages = []
    recorder.message.connect(messages.append)
    assert recorder.start(tmp_path / "no-such-folder" / "voice.wav")
    qtbot.wait(100)
    assert recorder.stop() is None
    assert messages and "could not be written" in messages[0]
