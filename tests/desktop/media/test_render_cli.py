"""`istar-studio --render`: a project rendered without a window or a display, with a progress bar on the terminal;
exit 2 and a clear message for a project it cannot render, and no file written then."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from desktop.app import parse_args
from desktop.project.file import save_project
from desktop.project.model import Clip, MediaItem, Project, new_id
from desktop.render_cli import ProgressBar, progress_line, render_command

ROOT = Path(__file__).resolve().parents[3]
NO_DISPLAY = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


@pytest.fixture
def film(tmp_path: Path, numbers: MediaItem, wav: MediaItem) -> Path:
    """A saved 128x64 project at 16 fps: 1 s of numbers on the video track, the tone under it."""
    project = Project.empty(fps=16, width=128, height=64)
    project.media = {numbers.id: numbers, wav.id: wav}
    project.tracks[0].place(Clip(new_id(), numbers.id, start=0, length=16))
    project.tracks[1].place(Clip(new_id(), wav.id, start=0, length=16))
    path = tmp_path / "film.istar"
    save_project(project, path)
    return path


def studio(*args: str, entry: str = "from desktop.app import main") -> subprocess.CompletedProcess:
    """`istar-studio ARGS` in a fresh interpreter with no display at all."""
    return subprocess.run([sys.executable, "-c", f"import sys; {entry}; sys.exit(main())", *args], env=NO_DISPLAY,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def in_process(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    parsed, extra = parse_args(list(args))
    return render_command(parsed, extra, err), err.getvalue()


def test_a_project_renders_without_a_display_to_a_playable_file(film: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    result = studio("--render", str(film), "-o", str(out), "--size", "96x160", "--fps", "24", "--crf", "30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert "96x160, 24 fps, H.264 CRF 30" in result.stderr
    assert "[########################] 100%  frame 24/24" in result.stderr and f"wrote {out}" in result.stderr
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.width, video.height, video.average_rate, audio.codec_context.name) == (96, 160, 24, "aac")
        assert len(list(container.decode(video=0))) == 24


def test_the_frozen_apps_entry_renders_too(film: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    entry = "sys.path.insert(0, 'installer/pyinstaller'); from istar_studio import main"
    result = studio("--render", str(film), "-o", str(out), entry=entry)
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        assert (container.streams.video[0].width, container.streams.video[0].frames) == (128, 16)


def test_missing_media_is_named_and_nothing_is_written(film: Path, tmp_path: Path, numbers: MediaItem) -> None:
    text = film.read_text().replace(str(numbers.path), str(tmp_path / "gone.mp4"))
    film.write_text(text)
    (tmp_path / "out.mp4").write_bytes(b"an earlier render")
    code, said = in_process("--render", str(film), "-o", str(tmp_path / "out.mp4"))
    assert code == 2
    assert f"missing: gone.mp4 (not found at {tmp_path / 'gone.mp4'})" in said and "relink" in said
    assert (tmp_path / "out.mp4").read_bytes() == b"an earlier render"


def test_a_missing_media_file_ends_the_process_with_exit_2(film: Path, tmp_path: Path, numbers: MediaItem) -> None:
    film.write_text(film.read_text().replace(str(numbers.path), str(tmp_path / "gone.mp4")))
    result = studio("--render", str(film), "-o", str(tmp_path / "out.mp4"))
    assert result.returncode == 2 and "gone.mp4" in result.stderr and result.stdout == ""
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--size", "1001x720"], "--size: the width should be an even number of pixels from 16 to 8192, not 1001"),
        (["--size", "wide"], "--size: should be WIDTHxHEIGHT in pixels, such as 1920x1080, not 'wide'"),
        (["--fps", "0"], "--fps: should be a whole number from 1 to 240, not 0"),
        (["--crf", "70"], "--crf: should be from 0 (best) to 51 (smallest), not 70"),
        (["--speed", "warp"], "--speed: should be one of fastest, fast, thorough, not warp"),
        (["other.istar"], "--render takes no other arguments: other.istar"),
        (["--fast"], "--render takes no other arguments: --fast"),
        (["--from", "1"], "--from: 1 s is not within the timeline, which lasts 1 s"),
        (["--from", "0.5", "--to", "0.25"], "--to: 0.25 s should come after --from (0.5 s)"),
    ],
)
def test_options_it_cannot_use_are_refused_naming_the_option(film: Path, tmp_path: Path, args, said) -> None:
    code, text = in_process("--render", str(film), "-o", str(tmp_path / "out.mp4"), *args)
    assert (code, text.strip()) == (2, f"istar-studio --render: {said}")
    assert not (tmp_path / "out.mp4").exists()


def test_from_and_to_render_that_part_of_the_timeline(film: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    code, said = in_process("--render", str(film), "-o", str(out), "--from", "0.25", "--to", "0.75")
    assert code == 0 and "0:00 (8 frames)" in said, said
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 8
    code, said = in_process("--render", str(film), "-o", str(out), "--from", "0.5")
    assert code == 0 and "(8 frames)" in said, said


def test_the_speed_asked_for_reaches_the_encoder(film: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    code, said = in_process("--render", str(film), "-o", str(out), "--speed", "thorough")
    assert code == 0 and "H.264 CRF 20, speed thorough" in said
    assert b" me=hex subme=2 " in out.read_bytes()  # x264's veryfast search
    code, said = in_process("--render", str(film), "-o", str(out))
    assert code == 0 and "speed fast" in said and b" me=dia subme=1 " in out.read_bytes()


def test_a_project_it_cannot_read_or_with_nothing_to_render_is_refused(film: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "out.mp4")
    film.write_text(film.read_text()[:200])
    code, said = in_process("--render", str(film), "-o", out)
    assert code == 2 and f"cannot read the project: {film}: is cut short" in said
    save_project(Project.empty(), film)
    code, said = in_process("--render", str(film), "-o", out)
    assert code == 2 and "film.istar has an empty timeline: there is nothing to render" in said
    assert in_process("--render", str(film)) == (2, "istar-studio --render: --render needs -o OUT.mp4, the file to "
                                                    "write\n")
    assert in_process("-o", out)[0] == 2
    code, said = in_process("--render", str(film), "-o", str(tmp_path / "no such folder" / "out.mp4"))
    assert code == 2 and "does not exist" in said
    assert not (tmp_path / "out.mp4").exists()


def test_the_progress_bar_says_frames_and_time_left_from_the_clock() -> None:
    assert progress_line(0.5, 240, 75.0) == "[############............]  50%  frame 120/240  1:15 left"
    assert progress_line(0.0, 240, None).endswith("frame 0/240  --:-- left")
    now = [0.0]
    out = io.StringIO()
    bar = ProgressBar(out, 100, clock=lambda: now[0])
    for frame in range(1, 101):
        now[0] = frame * 0.5
        bar(frame / 100)
    lines = out.getvalue().splitlines()  # not a terminal: a line every tenth, not every frame
    assert len(lines) == 11 and lines[5].endswith("frame 50/100  0:25 left") and lines[-1].endswith("0:00 left")
