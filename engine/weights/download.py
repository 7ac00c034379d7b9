"""Download a model from the Hugging Face hub into the store.

Each file arrives in a `.part` file that a later run resumes, is checked against the hub's sha256 (LFS files)
or git blob id (small files) and only then renamed into place. The revision is pinned to one commit for the
whole download. Offline, or with no route to the hub, it fails at once and says how to install from a folder.

The transformer's shards are taken as the repo holds them, in either format transformers' `load_sharded_checkpoint`
reads: safetensors shards (model.safetensors.index.json) go into the store as they are; torch shards
(pytorch_model.bin.index.json, taken only where the repo has no safetensors index) are fetched into the staging
folder's release folder and converted there exactly as `istar models install --from DIR` converts them
(install.TorchShards), then dropped with the other release files when the model is committed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
from huggingface_hub import HfApi, constants, hf_hub_url
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.file_download import http_get
from huggingface_hub.hf_api import RepoSibling
from huggingface_hub.utils import build_hf_headers

from engine.config import Preset, get_preset
from engine.file_hash import sha256_file
from engine.weights.catalogue import CatalogueEntry
from engine.weights.files import git_blob_sha1, part_path, promote_part
from engine.weights.install import Progress, Steps, TorchShards, converted_vae, finish
from engine.weights.manifest import TEXT_ENCODER_DIR, TRANSFORMER_DIR, FileEntry, Manifest, ModelStoreError
from engine.weights.staging import Staging
from engine.weights.transformer_checkpoint import INDEX_NAME, TORCH_INDEX_NAME

PROBE_TIMEOUT = 10.0  # seconds for the first request: an unreachable hub is reported, not retried
RELEASE_DIR = ".release"  # released files needed only while installing (the VAE .pth, torch shards): dropped at commit


def download(entry: CatalogueEntry, root: Path, revision: str | None, progress: Progress) -> Manifest:
    endpoint = (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    hub = _Hub.connect(entry, endpoint, revision)
    # the transformer's index: safetensors if the repo holds both; if it holds neither, both named as missing
    indexes = [f"{entry.weights_dir}/{name}" for name in (INDEX_NAME, TORCH_INDEX_NAME)]
    index = next((p for p in indexes if hub.has(p)), " or ".join(indexes))
    missing = [p for p in (*entry.layout(), index) if not hub.has(p)]
    if missing:
        raise ModelStoreError(f"{entry.repo} at {hub.commit} lacks {', '.join(missing)}")
    text = sorted(p for p in hub.files if entry.text_encoder_dir and p.startswith(entry.text_encoder_dir + "/"))

    origin = {"repo": entry.repo, "revision": hub.commit}
    staging = Staging(root, entry.model_id, origin)
    preset = get_preset(entry.preset)
    told: list[tuple[str, ...]] = []  # the torch index's step, numbered once the shards it names are known
    pickled = None
    if index.endswith(TORCH_INDEX_NAME):
        pickled = _torch_shards(hub, staging, entry.weights_dir, preset, lambda *step: told.append(step))
        weights = [f"{entry.weights_dir}/{shard}" for shard in pickled.shards]
    else:
        weights = sorted(p for p in hub.files if p.rpartition("/")[0] == entry.weights_dir
                         and (p.endswith(".safetensors") or p == index))
    # each hub file (a torch shard's conversion too), the VAE .pth, then its conversion
    steps = Steps(len(told) + len(weights) * (2 if pickled else 1) + len(text) + 2, progress)
    for step in told:
        steps(*step)
    if pickled:
        for p in weights:
            hub.fetch(staging, p, f"{RELEASE_DIR}/{Path(p).name}", "transformer", steps)
        files = pickled.convert(staging, steps)
    else:
        files = [hub.fetch(staging, p, f"{TRANSFORMER_DIR}/{Path(p).name}", "transformer", steps) for p in weights]
    files += [hub.fetch(staging, p, f"{TEXT_ENCODER_DIR}/{p[len(entry.text_encoder_dir) + 1:]}", "text_encoder",
                        steps) for p in text]
    pth = hub.fetch(staging, entry.vae_file, f"{RELEASE_DIR}/{Path(entry.vae_file).name}", "vae", steps)
    stamp = hub.stamp(entry.vae_file)
    files.append(converted_vae(staging, staging.folder / pth.path, stamp, pth.sha256, preset, steps))
    return finish(staging, entry, origin, files)


def _torch_shards(hub: _Hub, staging: Staging, folder: str, preset: Preset, steps: Callable[..., None]) -> TorchShards:
    """The repo's torch index fetched into the release folder and read before any shard is fetched: the tensors
    it names must be the transformer's, and the repo must hold every shard it names (fetched there after it)."""
    index = f"{folder}/{TORCH_INDEX_NAME}"
    rel = f"{RELEASE_DIR}/{TORCH_INDEX_NAME}"
    hub.fetch(staging, index, rel, "transformer", steps)
    pickled = TorchShards.read(staging.folder / rel, preset.transformer)
    missing = [f"{folder}/{shard}" for shard in pickled.shards if not hub.has(f"{folder}/{shard}")]
    if missing:
        raise ModelStoreError(f"{hub.repo} at {hub.commit} lacks {', '.join(missing)}, named by {index}")
    return pickled


def _offline() -> bool:
    flag = os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")
    return flag or constants.is_offline_mode()


def _unreachable(entry: CatalogueEntry, reason: str) -> str:
    return (f"cannot download {entry.model_id}: {reason}. To install it from files you already have, run "
            f"`istar models install {entry.model_id} --from DIR`, where DIR is laid out like the {entry.repo} "
            f"release ({', '.join(entry.layout())})")


@dataclass(frozen=True)
class _Hub:
    """One repo at one commit: its files' sizes and hashes, and how to fetch them."""

    endpoint: str
    repo: str
    commit: str
    files: dict[str, RepoSibling]

    @classmethod
    def connect(cls, entry: CatalogueEntry, endpoint: str, revision: str | None) -> _Hub:
        if _offline():
            raise ModelStoreError(_unreachable(entry, "offline mode is on (HF_HUB_OFFLINE)"))
        try:
            info = HfApi(endpoint=endpoint).model_info(
                entry.repo, revision=revision, files_metadata=True, timeout=PROBE_TIMEOUT
            )
        except HfHubHTTPError as err:
            raise ModelStoreError(f"the hub at {endpoint} refused {entry.repo}: {err}") from None
        except (OSError, httpx2.TransportError) as err:
            raise ModelStoreError(_unreachable(entry, f"no connection to {endpoint} ({err})")) from None
        return cls(endpoint, entry.repo, info.sha, {s.rfilename: s for s in info.siblings or ()})

    def has(self, path: str) -> bool:
        """Whether the repo holds the file `path`, or any file under `path` if it ends in '/'."""
        return any(p.startswith(path) for p in self.files) if path.endswith("/") else path in self.files

    def stamp(self, path: str) -> dict[str, str]:
        """What the hub says the file's bytes hash to."""
        sibling = self.files[path]
        return {"sha256": sibling.lfs.sha256} if sibling.lfs else {"git_blob_sha1": sibling.blob_id}

    def fetch(self, staging: Staging, path: str, rel: str, role: str, steps: Callable[..., None]) -> FileEntry:
        """The repo file `path` as the model file `rel`: resumed from its `.part` file, checked, renamed."""
        stamp = self.stamp(path)
        done = staging.finished(rel, stamp)
        if done is not None:
            steps("kept", path)
            return done
        size = self.files[path].size
        final = staging.path(rel)
        part = part_path(final)
        have = part.stat().st_size if part.is_file() else 0
        if have > size:
            part.unlink()
            have = 0
        steps("downloading", path, f"(resuming after {have:,} bytes)" if have else "")
        url = hf_hub_url(self.repo, path, revision=self.commit, endpoint=self.endpoint)
        try:
            with open(part, "ab") as f:
                http_get(url, f, resume_size=have, headers=build_hf_headers(), expected_size=size,
                         displayed_filename=path)
        except (OSError, httpx2.HTTPError) as err:
            reason = str(err).splitlines()[0]
            raise ModelStoreError(
                f"downloading {path} stopped: {reason}. Run the same command again to resume"
            ) from None
        sha256 = sha256_file(part)
        found = {"sha256": sha256} if "sha256" in stamp else {"git_blob_sha1": git_blob_sha1(part)}
        if found != stamp:
            part.unlink()
            kind = next(iter(stamp))
            raise ModelStoreError(
                f"{path} from {self.repo} does not match the hub's {kind}: expected {stamp[kind]}, got {found[kind]}. "
                "The download was discarded and nothing was installed; run the command again to retry"
            )
        promote_part(part, final)
        entry = FileEntry(rel, role, size, sha256)
        staging.record(entry, stamp)
        return entry
