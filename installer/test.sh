#!/usr/bin/env bash
# Set everything up (fast when already done), then run ruff and the whole pytest suite; arguments go to pytest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/installer/setup.sh"
cd "$ROOT"

echo "[test] ruff check ."
.venv/bin/ruff check .

# pytest runs with a throwaway HOME: nothing the tests write lands in the real one, and its .asoundrc gives
# PortAudio a null sound device so audio code works on machines without a sound card.
pip_cache="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
test_home="$(mktemp -d)"
trap 'rm -rf "$test_home"' EXIT
printf 'pcm.!default { type null }\n' >"$test_home/.asoundrc"

# Two workers (pytest-xdist), each test file on one of them so a file's module fixtures are built once: the
# suite takes about two thirds of the time on two cores. More workers would crowd tests that start engine
# processes of their own. A worker that crashes is not replaced: its test fails and the run goes on with the other,
# where a replaced worker has been seen to leave the run waiting for ever. `-n 0` as an argument runs everything in
# this one process.
workers=$(( $(nproc) < 2 ? 0 : 2 ))
echo "[test] pytest -n $workers --dist loadfile --max-worker-restart=0 $*"
HOME="$test_home" PIP_CACHE_DIR="$pip_cache" QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" \
    .venv/bin/python -m pytest -n "$workers" --dist loadfile --max-worker-restart=0 "$@"
