"""The farm's engine actors: one per GPU of the Ray cluster, or a given number of CPU slots.

Each actor is a Ray actor of engine.farm.actor.EngineActor owned by the head: it holds one GPU when the cluster has
GPUs (Ray then shows it that GPU alone) and one CPU, and serves a few calls at once so that a cancel, a model listing
or a status reaches it while it runs a job. The actors die with the head.
"""

from __future__ import annotations

from engine.farm import FarmError, import_ray
from engine.farm.dispatch import Slot

ACTOR_CALLS = 4  # calls an actor serves at once: its job, and cancels, model listings and status beside it
START_TIMEOUT = 300.0  # seconds for every actor to import the engine and answer


def start_actors(count: int | None = None, threads: int | None = None, timeout: float = START_TIMEOUT,
                 first: int = 1) -> list[Slot]:
    """Start `count` engine actors (None: one per GPU of the cluster) on the Ray cluster this process is connected
    to, each with `threads` torch threads, named engine-`first` on; wait until every one answers. FarmError says why
    they cannot start."""
    ray = import_ray()
    from engine.farm.actor import EngineActor

    gpus = int(ray.cluster_resources().get("GPU", 0))
    if count is None:
        count = gpus
        if not count:
            raise FarmError("the Ray cluster has no GPU: give the number of CPU engine actors (--actors N)")
    if count < 1:
        raise FarmError(f"a farm needs at least one engine actor, got {count}")
    remote = ray.remote(EngineActor).options(num_cpus=1, num_gpus=1 if gpus else 0, max_concurrency=ACTOR_CALLS)
    handles = [remote.remote(f"engine-{first + i}", threads) for i in range(count)]
    try:
        infos = ray.get([h.ready.remote() for h in handles], timeout=timeout)
    except ray.exceptions.RayError as err:
        for handle in handles:
            ray.kill(handle)
        if isinstance(err, ray.exceptions.GetTimeoutError):
            what = f"{count} GPU" if gpus else f"{count} CPU"
            raise FarmError(f"the engine actors did not all start within {timeout:g} s: the cluster may not have "
                            f"{what}s free for them (ray status shows what it has)") from None
        raise FarmError(f"an engine actor could not start: {err}") from None
    return [Slot(handle, info) for handle, info in zip(handles, infos, strict=True)]


def free_gpus() -> int:
    """GPUs of the cluster that no actor holds: on a machine that joined, or let go by an actor that died."""
    return int(import_ray().available_resources().get("GPU", 0))
