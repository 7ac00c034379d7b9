"""The inspector's rows as a person reads them: a clip with sound offers its gain; a title, a picture or a silent
video, which have none, do not. Videos and sounds offer their speed; stills and titles, which have no pace, do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QFormLayout

from desktop.inspector import Inspector
from desktop.project.model import Clip, MediaItem, Project, Track
from desktop.project.title import Title

MEDIA = {
    "sound": MediaItem("sound", Path("/v.wav"), "audio", 4.0, has_audio=True),
    "video with sound": MediaItem("video with sound", Path("/a.mp4"), "video", 4.0, 16, 64, 64, has_audio=True),
    "silent video": MediaItem("silent video", Path("/s.mp4"), "video", 4.0, 16, 64, 64),
    "picture": MediaItem("picture", Path("/p.png"), "image", 0.0, width=64, height=64),
    "title": MediaItem("title", Path("title"), "title", 0.0, title=Title()),
}


def row_names(inspector: Inspector) -> list[str]:
    form = inspector.form
    return [form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget().text() for row in range(form.rowCount())
            if form.itemAt(row, QFormLayout.ItemRole.LabelRole) is not None]


@pytest.mark.parametrize(("name", "gain", "speed"), [("sound", True, True), ("video with sound", True, True),
                                                     ("silent video", False, True), ("picture", False, False),
                                                     ("title", False, False)])
def test_only_a_clip_with_sound_shows_a_gain_row_and_one_with_a_pace_its_speed(qtbot, name: str, gain: bool,
                                                                                speed: bool) -> None:
    media = MEDIA[name]
    project = Project(fps=16, media={media.id: media},
                      tracks=[Track("t", media.track_kind, "Track", clips=[Clip("c", media.id, 0, 32)])])
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.show_clip(project, project.find_clip("c")[1])
    rows = row_names(inspector)
    assert rows[:4] == ["Media", "Start", "Length", "Source in"] and "Fade in" in rows
    assert ("Gain" in rows) is gain
    assert ("Speed" in rows) is speed and ("Direction" in rows) is speed



def test_a_sped_clip_with_sound_offers_to_keep_its_pitch(qtbot) -> None:
    media = MEDIA["video with sound"]
    clip = Clip("c", media.id, 0, 32, speed=1.5)
    project = Project(fps=16, media={media.id: media}, tracks=[Track("t", "video", "Track", clips=[clip])])
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.show_clip(project, clip)
    assert "Pitch" in row_names(inspector)
    keep = next(box for box in inspector.findChildren(QCheckBox) if box.text() == "Keep")
    assert keep.isChecked(), "a sped clip keeps its pitch unless told otherwise"
    with qtbot.waitSignal(inspector.keep_pitch_changed) as changed:
        keep.setChecked(False)
    assert changed.args == ["c", False]
    clip.speed = 1.0
    inspector.show_clip(project, clip)
    assert "Pitch" not in row_names(inspector), "at its own pace there is no pitch to keep"
