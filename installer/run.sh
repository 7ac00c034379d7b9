#!/usr/bin/env bash
# Set everything up (fast when already done), then start InfinityStar Studio; arguments go to the app.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/installer/setup.sh"
exec "$ROOT/.venv/bin/istar-studio" "$@"
