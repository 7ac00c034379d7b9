"""The sample project shipped with the studio (resources/sample, made by resources/sample/make_sample.py), and
copies of it to open: the installed one is never opened itself, so a person's edits and generations go to a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

# resources/ lies beside the desktop package, in a checkout, an installed app and the frozen one alike (the
# installers and the PyInstaller spec copy it there, as engine.weights.store expects for the built-in model)
SAMPLE_FOLDER = Path(__file__).resolve().parents[2] / "resources" / "sample"
SAMPLE_PROJECT = SAMPLE_FOLDER / "sample.istar"
SAMPLE_FILES = ("sample.istar", "sample.media")  # not make_sample.py, which makes them


def copy_sample(into: Path, source: Path = SAMPLE_FOLDER) -> Path:
    """Copy the sample project into a new folder under `into` (`sample`, else `sample 2`, `sample 3`...: an
    earlier copy, maybe edited, is kept) and return the copy's project file. Its media paths are relative, so the
    copy uses its own media."""
    into.mkdir(parents=True, exist_ok=True)
    n = 1
    while (folder := into / ("sample" if n == 1 else f"sample {n}")).exists():
        n += 1
    partial = into / f".{folder.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for name in SAMPLE_FILES:
        if (source / name).is_dir():
            shutil.copytree(source / name, partial / name)
        else:
            shutil.copy2(source / name, partial / name)
    partial.rename(folder)  # a copy cut short never looks like a sample to open
    return folder / "sample.istar"
