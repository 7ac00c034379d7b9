"""The client's job queue file: states survive a restart, unfinished jobs are offered back, a broken file is named."""

from __future__ import annotations

import json

import pytest

from engine.api.job_book import JobBook, JobBookError
from engine.api.jobs import JobSpec


def _spec(name: str) -> JobSpec:
    return JobSpec(kind="generate", model="toyworld", output=f"/tmp/{name}.mp4", prompts=(f"a {name} ball",), seed=1)


def test_states_survive_a_reopen_and_unfinished_jobs_are_offered_back(tmp_path):
    path = tmp_path / "queue.json"
    queue = JobBook(path)
    a, b, c, d = (queue.add(_spec(n)).spec for n in ("red", "blue", "green", "white"))
    queue.update(a.id, state="done", video="/tmp/red.mp4", bits="/tmp/red.bits.safetensors", provenance={"seed": 1})
    queue.update(b.id, state="failed", failure="out_of_memory", message="CUDA out of memory", hint="try nf4")
    queue.update(c.id, state="running")
    reopened = JobBook.open(path)
    assert [r.spec for r in reopened.records] == [a, b, c, d]
    assert [r.spec.id for r in reopened.unfinished()] == [c.id, d.id]
    failed = reopened.get(b.id)
    assert (failed.state, failed.failure, failed.hint) == ("failed", "out_of_memory", "try nf4")
    assert reopened.get(a.id).provenance == {"seed": 1}
    reopened.remove(a.id)
    assert [r.spec for r in JobBook.open(path).records] == [b, c, d]


def test_moving_a_job_changes_the_saved_order(tmp_path):
    queue = JobBook(tmp_path / "queue.json")
    a, b, c = (queue.add(_spec(n)).spec.id for n in ("red", "blue", "green"))
    queue.move(c, before=a)
    queue.move(b, before=None)
    assert [r.spec.id for r in JobBook.open(tmp_path / "queue.json").records] == [c, a, b]


def test_a_queue_without_a_file_starts_empty_and_one_in_memory_writes_nothing(tmp_path):
    assert JobBook.open(tmp_path / "none.json").records == []
    JobBook().add(_spec("red"))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"version": 1, "jobs": [', "cannot be read"),
        ('{"version": 2, "jobs": []}', "is not a version 1 queue file"),
        ('{"version": 1, "jobs": [{"spec": {"kind": "generate"}}]}', "holds a broken job"),
        ('{"version": 1, "jobs": [{"state": "queued"}]}', "holds a broken job"),
        ("[" * 100_000, "cannot be read: it is nested deeper than 64 levels (line 1, column 65)"),
        ('{"version": 1, "jobs": [{"spec": {"kind": "generate", "model": "toyworld", "output": "o.mp4", '
         '"prompts": ["a"], "guidance_scale": Infinity}}]}', "cannot be read: it holds Infinity, not a finite number"),
        ('{"version": 1, "jobs": [{"spec": {"kind": "generate", "model": "toyworld", "output": "o.mp4", '
         '"prompts": ["a"], "guidance_scale": 1e308}}]}', "'guidance_scale' must be a number above 0 and up to 50"),
        ("\udcff", "cannot be read: it is not UTF-8 text"),
    ],
)
def test_a_broken_queue_file_is_named_and_left_as_it_was(tmp_path, text, says):
    path = tmp_path / "queue.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(JobBookError) as err:
        JobBook.open(path)
    assert str(path) in str(err.value) and says in str(err.value)
    assert path.read_bytes() == text.encode("utf-8", "surrogateescape")


def test_a_queue_file_that_cannot_be_read_is_set_aside_and_the_queue_starts_empty(tmp_path):
    """What the studio does at start: a queue.json of 100,000 `[` (or any unreadable one) used to stop it starting
    until the file was deleted by hand."""
    path = tmp_path / "queue.json"
    for n, text in enumerate(["[" * 100_000, '{"version": 1, "jobs": [{"spec": {"tau_video": NaN}}]}'], start=1):
        path.write_text(text)
        queue, problem = JobBook.open_or_set_aside(path)
        aside = tmp_path / f"queue.json.corrupt-{n}"
        assert queue.records == [] and aside.read_text() == text and not path.exists()
        assert problem.startswith(f"the job queue {path} cannot be read: it ")
        assert f"It was renamed to {aside}; the queue starts empty." in problem
        queue.add(_spec("red"))  # the fresh queue saves where the old one was
        assert [r.spec.prompts for r in JobBook.open(path).records] == [("a red ball",)]


def test_a_readable_queue_file_is_opened_as_it_is(tmp_path):
    path = tmp_path / "queue.json"
    JobBook(path).add(_spec("red"))
    queue, problem = JobBook.open_or_set_aside(path)
    assert problem == "" and len(queue.records) == 1 and list(tmp_path.iterdir()) == [path]


def test_a_record_with_an_unknown_state_is_refused(tmp_path):
    path = tmp_path / "queue.json"
    JobBook(path).add(_spec("red"))
    body = json.loads(path.read_text())
    body["jobs"][0]["state"] = "exploded"
    path.write_text(json.dumps(body))
    with pytest.raises(JobBookError, match="job state must be one of"):
        JobBook.open(path)
