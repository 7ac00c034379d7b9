"""`istar generate | storyboard | continue | bridge` as a person runs them: through an engine process, to MP4s."""

from __future__ import annotations

import numpy as np
import torch
from safetensors.torch import save_file

from engine.api import protocol as p
from engine.cli.jobs import progress_line
from engine.cli.main import main
from engine.media.mp4 import read_frames, read_metadata
from engine.pipeline.bits import read_bits

PROMPT = "a red circle moves to the right"


def istar(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_same_command_and_seed_make_the_same_video_and_it_can_be_continued_and_bridged(home, tmp_path, capsys):
    videos = []
    for name in ("a.mp4", "b.mp4"):
        code, out, err = istar(capsys, "generate", "--model", "toyworld", "--prompt", PROMPT, "--duration", "2",
                               "--seed", "3", "-o", str(tmp_path / name))
        assert code == 0 and out == f"{tmp_path / name}\n", err
        assert "33 frames of 64x64 at 16 fps, 21 passes (fp32 on cpu)" in err and "pass 21/21  clip 3 of 3" in err
        videos.append(read_frames(tmp_path / name)[0])
    assert videos[0].shape == (33, 64, 64, 3) and np.array_equal(videos[0], videos[1])
    meta = read_metadata(tmp_path / "a.mp4")
    assert meta["settings"]["seed"] == 3 and meta["inputs"]["prompts"] == [PROMPT, PROMPT]

    code, out, err = istar(capsys, "continue", str(tmp_path / "a.mp4"), "--seconds", "1", "--prompt",
                           "a red circle moves up", "--seed", "5", "-o", str(tmp_path / "longer.mp4"))
    assert code == 0, err
    assert read_frames(tmp_path / "longer.mp4")[0].shape == (16, 64, 64, 3)  # the second after a.mp4's two
    before, after = read_bits(tmp_path / "a.bits")[1], read_bits(tmp_path / "longer.bits")[1]
    assert [c.clip for c in after] == [0, 1, 2, 3] and all(c.context for c in after[:3])
    assert all(torch.equal(x, y) for a, b in zip(before, after, strict=False) for x, y in zip(a.bits, b.bits,
                                                                                           strict=True))

    code, out, err = istar(capsys, "storyboard", "--prompt", PROMPT, "--prompt", "a red circle moves to the left",
                           "--seed", "1", "-o", str(tmp_path / "board.mp4"))
    assert code == 0, err
    assert len(read_frames(tmp_path / "board.mp4")[0]) == 33  # one clip per prompt
    code, out, err = istar(capsys, "bridge", str(tmp_path / "a.mp4"), "--to", str(tmp_path / "board.mp4"),
                           "--seconds", "1", "--crossfade", "0.25", "-o", str(tmp_path / "joined.mp4"))
    assert code == 0, err
    assert len(read_frames(tmp_path / "joined.mp4")[0]) == 16
    inputs = read_metadata(tmp_path / "joined.mp4")["inputs"]
    assert inputs["prompts"] == [PROMPT] and inputs["crossfade_frames"] == 4  # toward board's first prompt


def test_a_model_without_a_text_encoder_takes_text_features(micro_home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ISTAR_HOME", str(micro_home))
    features = tmp_path / "features.safetensors"
    save_file({"text": torch.randn(5, 32, generator=torch.Generator().manual_seed(7))}, features)
    code, out, err = istar(capsys, "generate", "--model", "test-micro", "--text-features", str(features),
                           "--duration", "0", "--aspect", "1:1", "--seed", "4", "--device", "cpu",
                           "-o", str(tmp_path / "still.mp4"))
    assert code == 0, err
    assert read_frames(tmp_path / "still.mp4")[0].shape == (1, 256, 256, 3)
    assert len(read_metadata(tmp_path / "still.mp4")["inputs"]["text_features_sha256"]) == 64
    code, _, err = istar(capsys, "generate", "--model", "test-micro", "--prompt", "a red ball", "--duration", "0",
                         "-o", str(tmp_path / "x.mp4"))
    assert code == 2 and "test-micro has no text encoder, so it cannot read a prompt" in err


def test_bad_input_is_named_and_nothing_is_written(home, tmp_path, capsys):
    out = str(tmp_path / "x.mp4")
    cases = [
        (("generate", "--prompt", " ", "-o", out), "prompt 1 is empty"),
        (("generate", "--prompt", PROMPT, "-o", str(tmp_path / "missing" / "x.mp4")), "does not exist"),
        (("generate", "--model", "tiny-a", "--prompt", PROMPT, "-o", out), "model 'tiny-a' is not installed"),
        (("generate", "--prompt", PROMPT, "--duration", "601", "-o", out), "from 0 to 600 (10 minutes"),
        (("generate", "--prompt", PROMPT, "--image", str(tmp_path / "nope.png"), "-o", out), "nope.png"),
        (("storyboard", "--prompt", "a", "--prompt", "b", "--duration", "3", "-o", out), "give 1 prompt or 3"),
        (("continue", str(tmp_path / "x.mp4"), "-o", out), "only videos the studio made can be continued"),
    ]
    for args, says in cases:
        code, _, err = istar(capsys, *args)
        assert code == 2 and says in err, (args, err)
    assert not list(tmp_path.glob("x.*"))


def test_the_progress_line_says_pass_clip_speed_and_time_left():
    line = progress_line(p.Progress("j", 5, 24, 1, 0.25, 75.0), clips=3)
    assert line == "[######..................] pass 6/24  clip 2 of 3  0.25 s/pass  ETA 1:15"
    assert progress_line(p.Progress("j", 0, 24, 0, 1.0, None), clips=1).endswith("ETA --:--")
