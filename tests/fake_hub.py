"""A stand-in for the Hugging Face hub on localhost: the two endpoints huggingface_hub uses to download a repo.

`GET /api/models/<repo>[/revision/<rev>]?blobs=True` answers the repo's commit and every file's size, git blob
id and (for LFS files) sha256; `GET /<repo>/resolve/<commit>/<path>` serves a file, honouring `Range: bytes=N-`.
`faults[path]` lists what the next requests for a file get instead of a clean answer:
"drop" (half the body, then the connection closes), "corrupt" (one byte flipped) or "fail" (HTTP 500).
`serving` puts one where huggingface_hub looks for the hub.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from huggingface_hub import constants

LFS_SUFFIXES = (".safetensors", ".pth", ".bin")
# huggingface_hub writes what it received in chunks of this size; chunks cut by a drop are received again.
# At its default (10 MB) our small shards would never resume part-way, as multi-GB shards do.
CHUNK = 4096


@contextlib.contextmanager
def serving(repo: str, files: dict[str, bytes], monkeypatch) -> Iterator[FakeHub]:
    """A FakeHub of `repo` holding `files`, the hub huggingface_hub downloads from (online) inside the block."""
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", CHUNK)
    with FakeHub(repo, files) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        yield hub


def received_before_drop(data: bytes) -> int:
    """What a transfer cut at half the file leaves written: the whole chunks before the cut."""
    return len(data) // 2 // CHUNK * CHUNK


class FakeHub:
    def __init__(self, repo: str, files: dict[str, bytes]) -> None:
        self.repo = repo
        self.files = files
        self.commit = hashlib.sha1(repo.encode()).hexdigest()
        self.faults: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str | None]] = []  # (file, Range header) of every file request
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.hub = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def info(self) -> dict:
        siblings = []
        for path, data in self.files.items():
            blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            sibling = {"rfilename": path, "size": len(data), "blobId": blob}
            if path.endswith(LFS_SUFFIXES):
                sibling["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            siblings.append(sibling)
        return {"id": self.repo, "sha": self.commit, "siblings": siblings}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        hub: FakeHub = self.server.hub
        path = unquote(urlsplit(self.path).path)
        api = f"/api/models/{hub.repo}"
        if path == api or path.startswith(api + "/revision/"):
            self._answer(200, json.dumps(hub.info()).encode())
            return
        name = path.removeprefix(f"/{hub.repo}/resolve/{hub.commit}/")
        if name == path or name not in hub.files:
            self._answer(404, b'{"error": "not found"}')
            return
        ranged = self.headers.get("Range")
        hub.requests.append((name, ranged))
        faults = hub.faults.get(name)
        fault = faults.pop(0) if faults else None
        if fault == "fail":
            self._answer(500, b'{"error": "server error"}')
            return
        data = bytearray(hub.files[name])
        if fault == "corrupt":
            data[len(data) // 2] ^= 0xFF
        start = int(ranged.removeprefix("bytes=").split("-")[0]) if ranged else 0
        body = bytes(data[start:])
        self.send_response(206 if ranged else 200)
        self.send_header("Content-Length", str(len(body)))
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if fault == "drop":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
