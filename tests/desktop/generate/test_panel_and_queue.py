"""The generate panel turns its fields into the right job; the queue view follows the engine's events."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from desktop.generate.panel import GeneratePanel
from desktop.generate.queue_view import QueueView
from engine.service import protocol as p
from engine.service.job_queue import JobQueue
from engine.service.jobs import JobInputError, JobSpec

TOYWORLD = {
    "id": "toyworld", "preset": "toyworld", "description": "demo", "builtin": True, "precisions": ["fp32"],
    "verified": True, "needs_text_features": False, "fps": 16, "max_seconds": 6, "clip_seconds": 1,
    "aspects": ["1:1"], "default_aspect": "1:1", "guidance_scale": 3.0, "tau_video": 0.5,
    "plan": {"fits": True, "precision": "fp32", "peak_gb": 0.04, "lines": ["device cpu", "peak 0.04 GB"]},
}
DEVICE = {"device": "cpu", "name": "AMD EPYC"}


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = GeneratePanel(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.set_models([TOYWORLD], DEVICE)
    return widget


def test_text_to_video_makes_a_generate_job_with_the_models_limits(panel):
    panel.prompt.setPlainText("a red circle moves to the right")
    panel.duration.setValue(9)
    assert panel.duration.value() == 6  # the model's longest
    panel.roll_seed()
    job = panel.job("/tmp/out.mp4")
    assert (job.kind, job.model, job.seconds, job.aspect, job.seed) == ("generate", "toyworld", 6, "1:1",
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


def test_a_storyboard_has_one_prompt_per_clip_of_the_model(panel):
    panel.mode.setCurrentText("Storyboard")
    panel.duration.setValue(3)
    assert panel.storyboard_segments() == [(0, 1), (1, 2), (2, 3)] and len(panel.board_prompts) == 3
    panel.set_storyboard(["a red circle moves up", "a red circle moves left", "a red circle moves down"])
    job = panel.job("/tmp/board.mp4")
    assert job.kind == "storyboard" and job.prompts[1] == "a red circle moves left" and job.seconds == 3
    panel.board_prompts[2].setText(" ")
    with pytest.raises(JobInputError, match="prompt 3 is empty"):
        panel.job("/tmp/board.mp4")


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
    queue = JobQueue(tmp_path / "queue.json")
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
    assert [r.spec.id for r in JobQueue.open(tmp_path / "queue.json").records] == [waiting.id, last.id]
