"""The sample project in resources/sample: every editor feature in one small project, opened as a copy from
Help > Open sample project, and rendered without a window by `istar-studio --render`."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QSettings

from desktop.main_window import MainWindow
from desktop.project.file import load_project, missing_media
from desktop.project.sample import SAMPLE_FOLDER, SAMPLE_PROJECT, copy_sample
from engine.api.job_book import JobBook
from engine.api.transport import LocalEngine
from engine.home import studio_home
from engine.media.layout import clips_folder, find_bits
from engine.media.mp4 import read_metadata


def test_the_sample_has_every_feature_and_all_its_media():
    project = load_project(SAMPLE_PROJECT)
    assert missing_media(project) == []
    assert all(m.path.is_relative_to(SAMPLE_FOLDER / "sample.media") for m in project.media.values() if m.on_disk)
    assert (project.width, project.height) == (1920, 1080)
    videos = [t for t in project.tracks if t.kind == "video"]
    audios = [t for t in project.tracks if t.kind == "audio"]
    assert len(videos) == 2 and all(t.clips for t in videos) and len(audios) == 2 and all(t.clips for t in audios)
    clips = [c for t in project.tracks for c in t.clips]
    kinds = {project.media_of(c).kind for c in clips}
    assert kinds == {"video", "audio", "image", "title"}

    generated = [c for c in clips if project.media_of(c).generation is not None]
    assert len(generated) >= 3  # toyworld's, with their bits and clips beside them for continue and bridge
    for clip in generated:
        media = project.media_of(clip)
        assert (media.width, media.height) == (64, 64) and clip.transform.mode == "fit"
        assert find_bits(media.path) is not None and clips_folder(media.path).is_dir()
        assert read_metadata(media.path) is not None
    assert sum(c.dissolve_in > 0 for c in clips) >= 2
    assert any(c.fade_in for c in clips) and any(c.fade_out for c in clips)
    [picture] = [c for c in clips if project.media_of(c).kind == "image"]
    assert picture.transform.mode == "custom" and picture.transform.rotation and picture.transform.opacity < 1
    assert any(project.media_of(c).title.text.startswith("InfinityStar") for c in clips
               if project.media_of(c).kind == "title")
    assert {project.media_of(c).path.name for t in audios for c in t.clips} == {"music.m4a", "voice-over.m4a"}

    size = sum(p.stat().st_size for p in SAMPLE_FOLDER.rglob("*") if p.is_file())
    assert size < 2_000_000


def test_open_sample_opens_a_fresh_copy_under_the_studio_home(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, lambda: LocalEngine(tmp_path / "engine.log"), JobBook(tmp_path / "q.json"))
    window.confirm_discard = lambda: True  # never shown: no engine starts
    qtbot.addWidget(window)
    assert window.open_sample()
    first = window.project_path
    assert first == studio_home() / "samples" / "sample" / "sample.istar"
    assert missing_media(window.project) == [] and window.editor.stack.isClean()
    assert all(m.path.is_relative_to(first.parent) for m in window.project.media.values() if m.on_disk)

    assert window.open_sample()  # the first copy, maybe edited, stays: the next is a new one
    assert window.project_path == studio_home() / "samples" / "sample 2" / "sample.istar" and first.is_file()


def test_a_copy_leaves_the_generator_script_behind(tmp_path):
    project = copy_sample(tmp_path)
    assert sorted(p.name for p in project.parent.iterdir()) == ["sample.istar", "sample.media"]


def test_the_sample_renders_without_a_window(tmp_path):
    out = tmp_path / "sample.mp4"
    done = subprocess.run([sys.executable, "-c", "import sys; from desktop.app import main; sys.exit(main())",
                           "--render", str(SAMPLE_PROJECT), "-o", str(out), "--size", "320x180"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0 and done.stdout.strip() == str(out)
