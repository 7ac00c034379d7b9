"""The generate panel turns its fields into the right job; the queue view follows the engine's events."""

from __future__ import annotations

from dataclasses import replace

import pytest
from engine_records import CPU, TOYWORLD, model_info
from PySide6.QtCore import QSettings

from desktop.generate.panel import GeneratePanel, spin_range
from desktop.generate.queue_view import QueueView
from engine.api import protocol as p
from engine.api.job_book import JobBook
from engine.api.jobs import GUIDANCE_SCALE, MAX_SEED, MAX_VIDEO_SECONDS, TAU, JobInputError, JobSpec

DEVICE = replace(CPU, name="AMD EPYC")


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = GeneratePanel(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.set_models([TOYWORLD], DEVICE)
    return widget


def test_text_to_video_makes_a_generate_job_with_the_models_limits(panel):
    panel.prompt.setPlainText("a red circle moves to the right")
    panel.duration.setValue(900)
    assert panel.duration.value() == 600  # the longest one job makes
    panel.roll_seed()
    job = panel.job("/tmp/out.mp4")
    assert (job.kind, job.model, job.seconds, job.aspect, job.seed) == ("generate", "toyworld", 600, "1:1",
                                                                         panel.seed.value())
    assert job.prompts == ("a red circle moves to the right",) and job.guidance_scale is None
    assert "fp32 on AMD EPYC: peak 0.04 GB, fits" in panel.plan.text()


def test_advanced_settings_image_and_still_modes(panel):
    panel.prompt.setPlainText("a blue star")
    panel.mode.setCurrentText("Text to image")
    panel.advanced.setChecked(True)
    panel.guidance.setValue(5.0)
    job = panel.job("/tmp/still.mp4")
    assert job.seconds == 0 and job.guidance_scale == 5.0 and job.tau_video == 0.5
    panel.mode.setCurrentText("Image to video")
    with pytest.raises(JobInputError, match="needs a first frame"):
        panel.job("/tmp/x.mp4")
    assert "needs a first frame" in panel.error.text()
    panel.set_first_frame("/tmp/frame.png")
    assert panel.job("/tmp/x.mp4").image == "/tmp/frame.png" and panel.error.text() == ""


def test_the_panels_ranges_are_the_apis(panel):
    """The spin boxes offer what a job accepts, read from engine.api.jobs, so no value the panel shows is refused."""
    assert (panel.guidance.minimum(), panel.guidance.maximum()) == spin_range(GUIDANCE_SCALE) == (0.01, 50)
    assert (panel.temperature.minimum(), panel.temperature.maximum()) == spin_range(TAU) == (0.01, 5)
    assert (panel.duration.minimum(), panel.duration.maximum()) == (1, MAX_VIDEO_SECONDS)
    assert panel.seed.minimum() == 0 and panel.seed.maximum() == 2**31 - 1 <= MAX_SEED  # what a spin box holds
    panel.prompt.setPlainText("a red ball")
    panel.advanced.setChecked(True)
    for box, allowed in ((panel.guidance, GUIDANCE_SCALE), (panel.temperature, TAU)):
        for value in (box.minimum(), box.maximum()):
            box.setValue(value)
            assert value in allowed
        box.setValue(1e308)
        assert box.value() == allowed.high
    panel.random_seed.setChecked(False)
    panel.seed.setValue(panel.seed.maximum())
    job = panel.job("/tmp/edges.mp4")
    assert (job.guidance_scale, job.tau_video, job.seed) == (50, 5, 2**31 - 1)


def test_a_storyboard_has_one_prompt_per_clip_of_the_model(panel):
    panel.mode.setCurrentText("Storyboard")
    panel.duration.setValue(3)
    assert panel.storyboard_segments() == [(0, 1), (1, 2), (2, 3)] and len(panel.board.edits) == 3
    panel.set_storyboard(["a red circle moves up", "a red circle moves left", "a red circle moves down"])
    job = panel.job("/tmp/board.mp4")
    assert job.kind == "storyboard" and job.prompts[1] == "a red circle moves left" and job.seconds == 3
    panel.board.edits[2].setText(" ")  # an empty row goes on as the row above
    assert panel.job("/tmp/board.mp4").prompts[2] == "a red circle moves left"
    panel.board.edits[0].setText("")
    with pytest.raises(JobInputError, match="prompt 1 is empty"):
        panel.job("/tmp/board.mp4")


def test_a_long_storyboard_has_a_row_per_clip_in_a_scrolling_board_and_keeps_what_was_typed(panel):
    panel.mode.setCurrentText("Storyboard")
    panel.duration.setValue(40)
    rows = panel.board.form
    assert len(panel.board.edits) == 40 and rows.itemAt(39, rows.ItemRole.LabelRole).widget().text() == "39-40 s"
    prompts = [f"a red circle moves {'up' if i % 2 else 'down'} for the {i + 1}th time" for i in range(40)]
    panel.set_storyboard(prompts)
    assert panel.job("/tmp/board.mp4").prompts == tuple(prompts)
    assert panel.board.sizeHint().height() < 8 * panel.board.edits[0].sizeHint().height()  # the rest scrolls
    panel.duration.setValue(75)
    assert len(panel.board.edits) == 75 and panel.board.texts()[:40] == prompts
    assert rows.itemAt(74, rows.ItemRole.LabelRole).widget().text() == "1:14-1:15"
    panel.duration.setValue(2)
    assert panel.board.texts() == prompts[:2]


def test_a_duration_past_the_trained_length_says_what_the_model_does_then(panel):
    panel.prompt.setPlainText("a red circle moves to the right")
    panel.duration.setValue(2)
    assert panel.length_note.isHidden()
    panel.duration.setValue(30)
    assert not panel.length_note.isHidden()
    assert "the 2 s videos this model was trained on" in panel.length_note.text()
    assert "each 1 s clip made as the last clip of a 2 s video" in panel.length_note.text()
    panel.mode.setCurrentText("Text to image")
    assert panel.length_note.isHidden()
    one_clip = model_info("infinitystar-8b-720p", trained_seconds=5.0, clip_latents=20)
    panel.set_models([TOYWORLD, one_clip], DEVICE)
    panel.mode.setCurrentText("Text to video")
    panel.model.setCurrentIndex(panel.model.findData("infinitystar-8b-720p"))
    assert "in place of a first frame" in panel.length_note.text() and not panel.length_note.isHidden()
    panel.duration.setValue(5)
    assert panel.length_note.isHidden()


def test_an_empty_prompt_is_refused_and_prompts_are_remembered(panel, qtbot, tmp_path):
    with pytest.raises(JobInputError, match="empty"):
        panel.job("/tmp/x.mp4")
    panel.prompt.setPlainText("a green square grows")
    panel.job("/tmp/x.mp4")
    again = GeneratePanel(panel.settings)
    qtbot.addWidget(again)
    assert again.history.itemText(0) == "a green square grows"


def _spec(name: str) -> JobSpec:
    return JobSpec(kind="generate", model="toyworld", output=f"/tmp/{name}.mp4", prompts=(f"a {name} ball",), seed=1)


def test_the_queue_view_follows_events_and_asks_for_cancel_retry_and_moves(qtbot, tmp_path):
    queue = JobBook(tmp_path / "queue.json")
    running, waiting, last = (queue.add(_spec(n)).spec for n in ("red", "blue", "green"))
    view = QueueView(queue)
    qtbot.addWidget(view)
    queue.update(running.id, state="running")
    view.on_event(p.Started(running.id, 21, 3, 33, 64, 64, 16, "fp32", "cpu"))
    view.on_event(p.Progress(running.id, 4, 21, 1, 0.02, 65.4))
    assert view._items[running.id].text(1) == "running"
    assert view._items[running.id].text(2) == "clip 1 of 2 · pass 5/21 · 1:05 left"

    requests = []
    view.cancel_requested.connect(lambda j: requests.append(("cancel", j)))
    view.retry_requested.connect(lambda j: requests.append(("retry", j)))
    view.move_requested.connect(lambda j, b: requests.append(("move", j, b)))
    view.select(last.id)
    view.buttons["Up"].click()
    view.select(running.id)
    assert not view.buttons["Up"].isEnabled() and view.buttons["Cancel"].isEnabled()
    view.buttons["Cancel"].click()

    queue.update(running.id, state="failed", failure="out_of_memory", message="CUDA out of memory", hint="try nf4")
    view.on_event(p.Failed(running.id, "out_of_memory", "CUDA out of memory", "try nf4"))
    item = view._items[running.id]
    assert item.text(1) == "failed: out_of_memory" and "What to try: try nf4" in item.toolTip(0)
    view.select(running.id)
    view.buttons["Retry"].click()
    view.buttons["Remove"].click()
    assert requests == [("move", last.id, waiting.id), ("cancel", running.id), ("retry", running.id)]
    assert [r.spec.id for r in JobBook.open(tmp_path / "queue.json").records] == [waiting.id, last.id]


def test_words_the_model_does_not_know_are_shown_as_the_prompt_is_typed(panel):
    panel.set_models([replace(TOYWORLD, vocabulary=("a", "red", "circle", "moves"))], DEVICE)
    panel.prompt.setPlainText("a red circle moves")
    assert panel.words_note.isHidden()
    panel.prompt.setPlainText("a red circle dances gracefully, dances")
    assert not panel.words_note.isHidden()
    assert panel.words_note.text() == ("toyworld does not know the words dances, gracefully: they are left out of "
                                       "the prompt")
    panel.set_models([replace(TOYWORLD, vocabulary=None)], DEVICE)  # a model that reads any text
    assert panel.words_note.isHidden()


def test_what_the_engine_noted_of_a_job_stays_on_it(qtbot, tmp_path):
    queue = JobBook(tmp_path / "queue.json")
    spec = queue.add(_spec("red")).spec
    view = QueueView(queue)
    qtbot.addWidget(view)
    note = "this model does not know the words dances: they were left out of the prompt"
    view.on_event(p.Started(spec.id, 21, 3, 33, 64, 64, 16, "fp32", "cpu", [note]))
    queue.update(spec.id, state="done")
    view.on_event(p.Finished(spec.id, "out.mp4", "out.bits", None, 1.0, 1.0, 0.0))
    item = view._items[spec.id]
    assert item.text(2) == note and note in item.toolTip(0)
