"""When the head tells a client that a farm job ended: only once the actor's stream is over, so that the actor is free
and the models it holds are known by then. A client that sends its next job on hearing of the end (the studio's
Continue clip) must find it going to the actor that holds the model, not to whichever actor was free a moment
earlier. The actors here are stand-ins whose streams the test steps through, so the order is not left to timing."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from engine_session import toyworld_job

from engine.api import protocol as p
from engine.farm import dispatch
from engine.farm.dispatch import FarmJobs, Slot
from engine.farm.stream import ActorInfo, Held


class ActorDied(Exception):
    pass


FAKE_RAY = SimpleNamespace(get=lambda item, **_: item,
                           exceptions=SimpleNamespace(RayActorError=ActorDied, RayError=ActorDied))


class SteppedActor:
    """An engine actor whose job stream yields `items`, waiting for the test's go before each one from `pause_at` on,
    and then raises `dies` if given (the actor's process gone)."""

    def __init__(self, items: list[object], pause_at: int, dies: bool = False) -> None:
        self.items, self.pause_at, self.dies = items, pause_at, dies
        self.go, self.waiting = threading.Semaphore(0), threading.Event()
        self.run = SimpleNamespace(options=lambda **_: SimpleNamespace(remote=self._stream))
        self.cancel = self.resume = SimpleNamespace(remote=lambda _job_id: None)

    def _stream(self, spec, uploads) -> Iterator[object]:
        for i, item in enumerate(self.items):
            if i >= self.pause_at:
                self.waiting.set()
                self.go.acquire()
            yield item
        if self.dies:
            self.waiting.set()
            self.go.acquire()
            raise ActorDied("the actor's process exited")


class Heard:
    def __init__(self) -> None:
        self.events: queue.Queue[p.Message] = queue.Queue()

    def emit(self, message: p.Message) -> None:
        self.events.put(message)

    def until(self, kind: type) -> p.Message:
        while not isinstance(message := self.events.get(timeout=30), kind):
            pass
        return message


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "import_ray", lambda: FAKE_RAY)


def _farm(actor: SteppedActor) -> tuple[FarmJobs, Slot]:
    slot = Slot(actor, ActorInfo("actor-1", "here", 1, "cpu"))
    return FarmJobs([slot, Slot(SteppedActor([], 0), ActorInfo("actor-2", "here", 2, "cpu"))]), slot


def test_the_client_hears_of_the_end_once_the_actor_is_free_and_its_models_are_known(fake_ray, tmp_path):
    spec = toyworld_job(tmp_path, "one")
    ended = p.Failed(spec.id, "crashed", "the clip did not fit in memory")
    actor = SteppedActor([ended, Held(("toyworld",))], pause_at=1)  # stops between the end and the models held
    farm, slot = _farm(actor)
    client = Heard()
    farm.submit(client, spec)
    assert actor.waiting.wait(30)

    busy = farm.status().actors[0]
    assert busy.job == spec.id and busy.models == ()
    assert not any(isinstance(m, p.TERMINAL) for m in list(client.events.queue))

    actor.go.release()
    heard = client.until(p.Failed)
    assert (heard.message, heard.job_id) == (ended.message, spec.id)
    free = farm.status().actors[0]
    assert free.job is None and free.models == ("toyworld",)


def test_an_actor_that_dies_after_the_end_does_not_run_the_job_again(fake_ray, tmp_path):
    spec = toyworld_job(tmp_path, "one")
    ended = p.Failed(spec.id, "bad_input", "the prompt is empty")
    actor = SteppedActor([ended, Held(())], pause_at=2, dies=True)
    farm, _ = _farm(actor)
    client = Heard()
    farm.submit(client, spec)
    assert actor.waiting.wait(30)
    actor.go.release()

    assert client.until(p.Failed).message == ended.message
    status = farm.status()
    assert [a.alive for a in status.actors] == [False, True] and status.queued == 0
    assert not any(isinstance(m, p.Started | p.TERMINAL) for m in list(client.events.queue))
