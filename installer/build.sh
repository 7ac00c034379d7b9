#!/usr/bin/env bash
# Build the one-folder app with PyInstaller into dist/istar-studio/ (the checkout's .venv, set up first).
# Check the result with: dist/istar-studio/istar-studio --self-check
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYINSTALLER_VERSION="6.22.3"
DIST="${ISTAR_DIST_DIR:-$ROOT/dist}"

"$ROOT/installer/setup.sh"
python="$ROOT/.venv/bin/python"
if [ "$("$python" -c 'import importlib.metadata as m; print(m.version("pyinstaller"))' 2>/dev/null)" != "$PYINSTALLER_VERSION" ]
then
    echo "[build] installing pyinstaller $PYINSTALLER_VERSION"
    "$python" -m pip install -q "pyinstaller==$PYINSTALLER_VERSION"
fi

echo "[build] pyinstaller: $DIST/istar-studio (takes minutes)"
start=$SECONDS
"$python" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$DIST" --workpath "$ROOT/build/pyinstaller" "$ROOT/installer/pyinstaller/istar-studio.spec"
echo "[build] done in $((SECONDS - start)) s: $DIST/istar-studio/istar-studio ($(du -sh "$DIST/istar-studio" | cut -f1))"
