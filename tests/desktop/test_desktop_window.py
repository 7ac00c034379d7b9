"""The main window opens with its title, menus, docks and toolbar, and remembers its layout."""

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from blank_png import write_blank_png
from studio_window import folder_settings, studio_window

from desktop.main_window import APP_NAME, MainWindow, about_text, app_version
from desktop.project.file import save_project
from desktop.project.model import Project
from engine.atomic import host_tag
from engine.media.image import write_png
from engine.media.mp4 import mp4_writer


def menu_titles(window: MainWindow) -> dict[str, list[str]]:
    return {action.text(): [item.text() for item in action.menu().actions() if item.text()]
            for action in window.menuBar().actions()}


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    settings = folder_settings(tmp_path)

    def make() -> MainWindow:
        return studio_window(qtbot, tmp_path, settings, quiet=False)  # each test says whether it asks

    return make


def test_window_opens_untitled_with_its_docks(make_window, qtbot):
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == f"Untitled - {APP_NAME}"
    assert {d.windowTitle() for d in window.docks.values()} == {"Media", "Inspector", "Generate", "Jobs", "History"}
    assert window.tabifiedDockWidgets(window.docks["queue"]) == [window.docks["history"]], "History: a tab by Jobs"
    qtbot.waitUntil(lambda: bool(window.models), timeout=60_000)
    assert "toyworld" in window.models and window.panel.model.currentData() == "toyworld"
    window.close()


def test_the_history_lists_the_edits_and_a_click_goes_back_to_one_of_them(make_window):
    window = make_window()
    window.confirm_discard = lambda: True
    timeline = window.editor.timeline
    for kind in ("video", "audio", "video"):
        timeline.add_track(kind)
    history = window.history
    rows = [history.model().index(i, 0).data() for i in range(history.model().rowCount())]
    assert rows == ["Opened", "Add track", "Add track", "Add track"]
    history.setCurrentIndex(history.model().index(1, 0))
    assert [t.name for t in window.project.tracks] == ["Video 2", "Video 1", "Audio 1"], "back to after the first"
    assert window.editor.stack.index() == 1 and window.editor.stack.canRedo()
    window.new_project()
    assert history.model().rowCount() == 1 and history.stack() is window.editor.stack, "the next project's own"


def test_menus_offer_the_editing_and_generation_actions(make_window):
    menus = menu_titles(make_window())
    assert menus["&File"][:5] == ["&New project...", "&Open project...", "&Save", "Save &as...",
                                  "Project se&ttings..."]
    assert "&Export video..." in menus["&File"] and "&Quit" in menus["&File"]
    assert menus["&Edit"][:3] == ["&Undo", "&Redo", "&Split at playhead"]
    assert {"Spee&d", "Re&verse", "Paste &insert at playhead", "Ripple trim end to playhead"} <= set(menus["&Edit"])
    assert "&Freeze frame" in menus["&Timeline"]
    assert "&Record voice-over" in menus["&Timeline"]
    assert menus["&Generate"][1:4] == ["&Continue clip...", "&Keep going", "&Bridge to next clip..."]
    assert menus["&Generate"][-1] == "&Stop generating"
    assert menus["&Help"] == ["Open &sample project", "Set up &models...", "&Keyboard shortcuts", f"&About {APP_NAME}"]


def test_quit_closes_the_window_and_the_layout_is_remembered(make_window, qtbot):
    window = make_window()
    window.show()
    window.docks["queue"].hide()  # first: the Jobs dock's buttons alone need 432 px
    window.layout().activate()  # the window's least size follows at once, not at the next event
    window.resize(700, 500)  # inside the offscreen screen, which clamps restored geometry
    quit_action = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "&Quit")
    quit_action.trigger()
    assert not window.isVisible()
    again = make_window()
    assert again.size().width() == 700 and not again.docks["queue"].isVisibleTo(again)
    again.close()


def test_about_names_the_installed_version():
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    if app_version().startswith("unknown"):
        pytest.skip("infinitystar-studio is not pip-installed in this environment")
    assert app_version() == pyproject["project"]["version"]
    assert app_version() in about_text()


def test_media_unused_on_the_timeline_is_removed_from_the_bin_and_undo_brings_it_back(make_window, tmp_path, qtbot):
    window = make_window()
    window.confirm_discard = lambda: True  # closing it at the end asks nothing
    video = tmp_path / "shot.mp4"
    with mp4_writer(video, 16) as stream:
        stream.write(np.full((8, 16, 16, 3), 90, np.uint8))
    [media_id] = window.import_paths([video])
    window.bin.list.setCurrentRow(0)
    window.bin.remove_action.trigger()
    assert media_id not in window.project.media and window.bin.list.count() == 0
    window.editor.stack.undo()
    assert media_id in window.project.media and window.bin.list.count() == 1

    window.place_media(media_id)  # now a clip uses it: removing is refused, with the reason in the status bar
    window.bin.list.setCurrentRow(0)
    window.bin.remove_action.trigger()
    assert media_id in window.project.media
    assert "shot.mp4 is used by 1 clip(s) on Video 1" in window.statusBar().currentMessage()


def test_opening_or_saving_a_project_removes_what_killed_saves_and_jobs_left_there(make_window, tmp_path):
    window = make_window()
    window.confirm_discard = lambda: True
    folder = tmp_path / "film"
    folder.mkdir()
    path = folder / "film.istar"
    save_project(Project.empty(), path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()

    def leave(where: Path, name: str) -> Path:
        where.mkdir(parents=True, exist_ok=True)
        temp = where / f".{name}.{dead.pid}@{host_tag()}.abcd1234.tmp"
        temp.write_bytes(b"half")
        return temp

    media = folder / "film.media"
    opened = [leave(folder, "film.istar"), leave(media, "gen-1.mp4"), leave(media / "gen-1.clips", "clip_01.mp4")]
    kept = [leave(folder / "elsewhere", "film.istar"), folder / "notes.tmp", media / "gen-1.mp4"]
    for file in kept[1:]:
        file.write_bytes(b"keep")
    assert window.open_project(path)
    assert not any(f.exists() for f in opened) and all(f.exists() for f in kept)
    saved = leave(folder, "film.istar")
    assert window._save_to(path)
    assert not saved.exists() and all(f.exists() for f in kept)


def test_a_picture_wider_than_the_largest_frame_imports_and_is_placed_in_the_frame_as_it_was(make_window,
                                                                                             tmp_path):
    window = make_window()
    window.confirm_discard = lambda: True
    wide = tmp_path / "panorama.png"
    write_png(wide, np.full((100, 9000, 3), 128, np.uint8))
    [media_id] = window.import_paths([wide])
    assert window.project.media[media_id].width == 9000  # imported as it is
    window.place_media(media_id)
    assert len(window.project.tracks[0].clips) == 1
    assert (window.project.width, window.project.height) == (1280, 720)


def test_a_picture_of_400_megapixels_is_refused_on_import_naming_its_size_and_the_limit(make_window, tmp_path,
                                                                                         monkeypatch):
    window = make_window()
    window.confirm_discard = lambda: True
    warnings = []
    monkeypatch.setattr("desktop.main_window.QMessageBox.warning", lambda parent, title, text: warnings.append(text))
    huge = write_blank_png(tmp_path / "huge.png", 20_000, 20_000)
    wide = tmp_path / "panorama.png"
    write_png(wide, np.full((100, 9000, 3), 128, np.uint8))
    [media_id] = window.import_paths([huge, wide])
    assert window.project.media[media_id].name == "panorama.png"
    assert warnings == ["huge.png is 20000x20000 pixels (400 megapixels), over the limit of 268 megapixels "
                        "(16384x16384) for a picture: scale it down to import it"]
