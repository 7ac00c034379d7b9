"""`istar generate` as a person runs it on test-micro: the MP4 and provenance, one seed twice, continuing, errors."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from engine.media.mp4 import read_provenance
from engine.pipeline import PassProgress
from engine.pipeline.bits import load_bits
from engine.service.cli import main
from engine.service.generate import progress_line


@pytest.fixture
def features(micro_home, tmp_path, monkeypatch) -> Path:
    """ISTAR_HOME at the store with test-micro; the text features file test-micro needs instead of a prompt."""
    monkeypatch.setenv("ISTAR_HOME", str(micro_home))
    path = tmp_path / "features.safetensors"
    save_file({"text": torch.randn(5, 32, generator=torch.Generator().manual_seed(7))}, path)
    return path


def generate(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["generate", "--model", "test-micro", "--device", "cpu", "--aspect", "1:1", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def decode(path: Path) -> tuple[np.ndarray, av.video.stream.VideoStream]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)]), stream


def test_the_same_command_and_seed_make_the_same_frames(features, tmp_path, capsys):
    runs = []
    for name in ("a.mp4", "b.mp4"):
        code, out, err = generate(capsys, "--text-features", str(features), "--duration", "0", "--seed", "4",
                                  "-o", str(tmp_path / name))
        assert code == 0 and out == f"{tmp_path / name}\n"
        assert "seed 4: 1 frame of 256x256 at 16 fps, 12 passes" in err and "pass 12/12" in err
        runs.append(decode(tmp_path / name)[0])
    assert runs[0].shape == (1, 256, 256, 3) and np.array_equal(runs[0], runs[1])
    meta = read_provenance(tmp_path / "a.mp4")
    assert meta["model"] == "test-micro" and meta["precision"] == "fp32" and len(meta["weights_sha256"]) == 64
    assert meta["settings"]["seed"] == 4 and meta["settings"]["seconds"] == 0 and meta["engine_version"]
    assert meta["inputs"]["prompt"] is None and len(meta["inputs"]["text_features_sha256"]) == 64


def test_a_video_continued_from_an_image_has_every_frame_and_starts_from_its_bits(features, tmp_path, capsys):
    first = tmp_path / "still.mp4"
    code, _, _ = generate(capsys, "--text-features", str(features), "--duration", "0", "--seed", "1", "-o", str(first))
    assert code == 0
    video = tmp_path / "video.mp4"
    code, out, err = generate(capsys, "--text-features", str(features), "--duration", "1", "--seed", "2",
                              "--continue-from", str(tmp_path / "still.bits.safetensors"), "-o", str(video))
    assert code == 0, err
    frames, stream = decode(video)
    assert frames.shape == (17, 256, 256, 3)  # 1 + 4 * 4: latent frame 0, then four frames per latent frame
    assert stream.codec_context.name == "h264" and stream.average_rate == 16
    assert read_provenance(video)["settings"]["continued_passes"] == 12
    still, _ = load_bits(tmp_path / "still.bits.safetensors")
    continued, meta = load_bits(tmp_path / "video.bits.safetensors")
    assert len(continued) == 25 and meta["model"] == "test-micro"
    assert all(torch.equal(a, b) for a, b in zip(still, continued, strict=False))


def test_bad_input_is_named_before_anything_loads(features, tmp_path, capsys):
    out = str(tmp_path / "x.mp4")
    code, _, err = generate(capsys, "--prompt", " ", "--duration", "0", "-o", out)
    assert code == 2 and "the prompt is empty" in err
    code, _, err = generate(capsys, "--prompt", "a red ball", "--duration", "0", "-o", out)
    assert code == 2 and "test-micro has no text encoder, so it cannot read a prompt; give --text-features" in err
    code, _, err = generate(capsys, "--text-features", str(features), "--duration", "5", "-o", out)
    assert code == 2 and "--duration 5: test-micro makes 1..3 s videos (0 for an image)" in err
    code, _, err = generate(capsys, "--text-features", str(features), "--image", str(tmp_path / "nope.png"),
                            "--duration", "0", "-o", out)
    assert code == 2 and "cannot read the image" in err and "nope.png" in err
    code, _, err = generate(capsys, "--text-features", str(features), "--duration", "0", "-o",
                            str(tmp_path / "missing" / "x.mp4"))
    assert code == 2 and "the folder" in err and "does not exist" in err
    code = main(["generate", "--model", "tiny-a", "--prompt", "a red ball", "-o", out])
    assert code == 2 and "model 'tiny-a' is not installed (installed: toyworld, test-micro)" in capsys.readouterr().err
    assert not list(tmp_path.glob("x.*"))


def test_the_progress_line_says_pass_clip_speed_and_time_left():
    line = progress_line(PassProgress(5, 24, 1, 0.25, 75.0, None), clips=3)
    assert line == "[######..................] pass 6/24  clip 2/3  0.25 s/pass  ETA 1:15"
    assert progress_line(PassProgress(0, 24, 0, 1.0, None, None), clips=1).endswith("ETA --:--")
