"""The render farm as the studio sees it: a served engine whose jobs run side by side on engine actors, each output
landing on the client's machine, a job following its model to the actor that holds it, and an actor killed mid-job
costing nothing but a second try."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from engine_session import toyworld_job
from farm_session import start_farm

from engine.api import protocol as p
from engine.farm.dispatch import Slot, pick
from engine.farm.head import look_after
from engine.farm.stream import ActorInfo
from engine.media.mp4 import read_frames


def _on(events: list[p.Message], job_id: str) -> str:
    """The farm's note in the job's Started: which actor ran it."""
    started = next(e for e in events if isinstance(e, p.Started) and e.job_id == job_id)
    return next(n for n in started.notes if n.startswith("on the farm: "))


def _landed_here(ended: p.Message, folder: Path) -> None:
    assert isinstance(ended, p.Finished), ended
    assert Path(ended.video).parent == folder and Path(ended.bits).is_file()
    assert len(read_frames(ended.video)[0]) > 0


def test_a_job_goes_to_the_actor_that_holds_its_model_and_its_input_files_travel_there(farm):
    session = farm.session()
    try:
        first = toyworld_job(farm.folder, "first", seconds=1)
        session.client.submit(first)
        events = session.until_end(first.id)
        _landed_here(events[-1], farm.folder)
        holder = next(a for a in farm.jobs.status().actors if "toyworld" in a.models)

        # a continuation: its bits go to the farm as an upload and from there to the actor, as bytes
        then = toyworld_job(farm.folder, "then", kind="continue", seconds=1, continue_from=events[-1].bits)
        session.client.submit(then)
        more = session.until_end(then.id)
        _landed_here(more[-1], farm.folder)
        assert _on(events, first.id) == _on(more, then.id) == f"on the farm: {holder.name} ({holder.host}, cpu)"
    finally:
        session.close()


def _both(session, jobs) -> list[p.Message]:
    """Submit `jobs` at once; every event until both ended."""
    for job in jobs:
        session.client.submit(job)
    events = session.until_end(jobs[0].id)
    if not any(isinstance(e, p.TERMINAL) and e.job_id == jobs[1].id for e in events):
        events += session.until_end(jobs[1].id)
    return events


def _warm(session, farm) -> None:
    """Have both actors load the model, so that a job's Started comes as soon as it reaches its actor. The second
    warm-up job is sent once the first has made a pass, so it finds that actor busy and goes to the other: sent
    together, a first job that ends before the second is dispatched would take both (its actor holds the model)."""
    if all(a.models == ("toyworld",) for a in farm.jobs.status().actors):
        return
    busy, other = (toyworld_job(farm.folder, f"warm {i}", seconds=s, seed=i) for i, s in enumerate((6, 1)))
    session.client.submit(busy)
    while not isinstance(session.next(), p.Progress):
        pass
    session.client.submit(other)
    events = session.until_end(other.id)
    if not any(isinstance(e, p.TERMINAL) and e.job_id == busy.id for e in events):
        session.until_end(busy.id)
    assert all(a.models == ("toyworld",) for a in farm.jobs.status().actors)


def test_independent_jobs_run_side_by_side_and_every_file_lands_on_the_client(farm):
    session = farm.session()
    try:
        _warm(session, farm)
        jobs = [toyworld_job(farm.folder, f"variant {i}", seconds=2, seed=i) for i in range(2)]
        events = _both(session, jobs)
    finally:
        session.close()
    kinds = [(type(e), e.job_id) for e in events if isinstance(e, p.Started | p.Finished)]
    # both began before either ended: on one engine the second would start only after the first finished
    assert {kind for kind, _ in kinds[:2]} == {p.Started}, kinds
    assert _on(events, jobs[0].id) != _on(events, jobs[1].id)
    for job in jobs:
        ended = next(e for e in events if isinstance(e, p.TERMINAL) and e.job_id == job.id)
        _landed_here(ended, farm.folder)
        clips = [e for e in events if isinstance(e, p.ClipReady) and e.job_id == job.id]
        assert [c.clip for c in clips] == sorted(c.clip for c in clips) and clips
        assert all(Path(c.video).is_file() and Path(c.video).parent == farm.folder / f"{Path(job.output).stem}.clips"
                   for c in clips)


def test_the_farm_lists_its_models_and_a_cancel_reaches_the_running_job_on_its_actor(farm):
    session = farm.session()
    try:
        session.client.list_models("cpu", 2)
        while not isinstance(models := session.next(), p.Models | p.Failed):
            pass
        assert isinstance(models, p.Models) and "toyworld" in [m.id for m in models.models], models

        job = toyworld_job(farm.folder, "cancelled", seconds=6)
        session.client.submit(job)
        while not (isinstance(message := session.next(), p.ClipReady) and message.job_id == job.id):
            pass
        session.client.cancel(job.id)
        ended = session.until_end(job.id)[-1]
    finally:
        session.close()
    assert isinstance(ended, p.Cancelled), ended
    assert Path(ended.video).parent == farm.folder and len(read_frames(ended.video)[0]) > 0  # the clips it kept
    assert all(a.job is None for a in farm.jobs.status().actors)


def test_the_client_knows_every_job_running_side_by_side_as_running_not_waiting(farm):
    session = farm.session()
    try:
        _warm(session, farm)
        jobs = [toyworld_job(farm.folder, f"queued {i}", seconds=2, seed=i) for i in range(3)]
        for job in jobs:
            session.client.submit(job)
        started, ended, checked = set(), {}, False
        while len(ended) < len(jobs):
            message = session.next()
            if isinstance(message, p.Started):
                started.add(message.job_id)
                running = started - set(ended)
                for job_id in running if len(running) == 2 else ():
                    with pytest.raises(ValueError, match="not waiting"):  # a running job cannot be moved
                        session.client.move(job_id, None)
                    checked = True
            elif isinstance(message, p.TERMINAL) and message.job_id is not None:
                ended[message.job_id] = message
    finally:
        session.close()
    assert checked and all(isinstance(e, p.Finished) for e in ended.values()), ended


def test_a_farm_of_n_cpu_actors_starts_a_new_one_for_one_that_died(cluster, tmp_path):
    farm = start_farm(tmp_path, 2)
    session = farm.session()
    try:
        os.kill(farm.jobs.status().actors[0].pid, signal.SIGKILL)
        look_after(farm.jobs, 1, actors=2)  # the head's watch does this every few seconds
        actors = farm.jobs.status().actors
        assert [(a.name, a.alive) for a in actors] == [("engine-1", False), ("engine-2", True), ("engine-3", True)]
        look_after(farm.jobs, 1, actors=2)
        assert len(farm.jobs.status().actors) == 3, "two alive: nothing more to start"
        job = toyworld_job(farm.folder, "after the loss", seconds=1)
        session.client.submit(job)
        _landed_here(session.until_end(job.id)[-1], farm.folder)
    finally:
        session.close()
        farm.stop_actors()


def test_a_killed_actor_costs_a_retry_on_another_and_with_none_left_the_job_fails_as_crashed(cluster, tmp_path):
    farm = start_farm(tmp_path, 3)
    idle = farm.jobs.status().actors[0]
    os.kill(idle.pid, signal.SIGKILL)
    farm.jobs.check_idle()  # the head's watch does this every few seconds
    assert [a.name for a in farm.jobs.status().actors if not a.alive] == [idle.name]
    session = farm.session()
    try:
        first = toyworld_job(farm.folder, "first", seconds=6)
        session.client.submit(first)
        killed = _kill_when_started(session, farm, first.id)
        ended = session.until_end(first.id)[-1]
        _landed_here(ended, farm.folder)  # the client saw it finish, on the other actor
        lost = [a for a in farm.jobs.status().actors if not a.alive]
        assert [a.pid for a in lost] == [idle.pid, killed]

        last = toyworld_job(farm.folder, "last", seconds=6)
        session.client.submit(last)
        _kill_when_started(session, farm, last.id)
        failed = session.until_end(last.id)[-1]
        assert isinstance(failed, p.Failed) and failed.kind == "crashed", failed
        assert "died during the job" in failed.message and "no engine actor is left" in failed.hint

        none_left = toyworld_job(farm.folder, "none left", seconds=1)
        session.client.submit(none_left)
        refused = session.until_end(none_left.id)[-1]
        assert isinstance(refused, p.Failed) and refused.kind == "crashed" and "died" in refused.message
    finally:
        session.close()


def _kill_when_started(session, farm, job_id: str) -> int:
    """kill -9 the actor running `job_id` once its first pass is done; its process id."""
    while not (isinstance(message := session.next(), p.Progress) and message.job_id == job_id):
        pass
    pid = farm.actor_of(job_id).pid
    os.kill(pid, signal.SIGKILL)
    return pid


def _slot(name: str, *models: str) -> Slot:
    return Slot(None, ActorInfo(name, "host", 1, "cuda:0"), models)


def test_a_free_actor_holding_the_model_is_picked_first_then_one_holding_none():
    busy_elsewhere = [_slot("a", "infinitystar-8b-480p"), _slot("b"), _slot("c", "toyworld")]
    assert pick(busy_elsewhere, "toyworld").info.name == "c"
    assert pick(busy_elsewhere, "infinitystar-8b-720p").info.name == "b"
    assert pick(busy_elsewhere[:1], "toyworld").info.name == "a"

