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

echo "[test] pytest $*"
HOME="$test_home" PIP_CACHE_DIR="$pip_cache" QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" \
    .venv/bin/python -m pytest "$@"
