"""The render farm: the engine on every GPU of a Ray cluster, behind one server that speaks `istar serve`'s protocol.

Each GPU (or CPU slot) runs one engine actor (actor.py) that keeps its loaded models between jobs and streams back a
job's events and output files (stream.py). The head (head.py) serves the studio over TCP like `istar serve` and hands
each job to a free actor (dispatch.py), one that holds the job's model when one is free, and tries a job again on
another actor once when its actor dies. Ray is an optional extra: nothing outside this package imports it, and this
package imports it only when a farm is used.
"""

from __future__ import annotations

from types import ModuleType

INSTALL_HINT = "install the farm extra: pip install .[farm] (or pip install ray)"


class FarmError(RuntimeError):
    """The farm cannot be used as asked; the message says why and what to do."""


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise FarmError(f"the render farm needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray
