#!/usr/bin/env bash
# Prepare this checkout: system libraries, .venv, the right torch build, the package in editable mode.
# Safe to re-run: it skips every step that is already done. `setup.sh --check` only reports (exit 1 if work is left).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.istar-setup-stamp"
TAG=setup
# shellcheck source=installer/lib.sh
source "$ROOT/installer/lib.sh"
APT_PACKAGES=("${RUNTIME_APT_PACKAGES[@]}" xvfb xauth)  # Xvfb and xauth: screenshots under a virtual display

python_env_is_current() {
    [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(wanted_stamp "$ROOT/pyproject.toml" "$1")" ]
}

main() {
    local check_only=0
    case "${1:-}" in
        --check) check_only=1 ;;
        "") ;;
        *) die "unknown argument: $1 (usage: setup.sh [--check])" ;;
    esac

    local variant
    variant="$(torch_variant)"

    if [ "$check_only" -eq 1 ]; then
        local ok=0
        if command -v dpkg >/dev/null 2>&1 && [ -n "$(missing_apt_packages "${APT_PACKAGES[@]}")" ]; then
            say "system packages missing: $(missing_apt_packages "${APT_PACKAGES[@]}" | tr '\n' ' ')"
            ok=1
        fi
        if python_env_is_current "$variant"; then say "Python environment up to date"; else
            say "Python environment needs setup"
            ok=1
        fi
        return "$ok"
    fi

    ensure_system_packages "${APT_PACKAGES[@]}"

    if [ -e "$VENV" ] && [ ! -x "$VENV/bin/python" ]; then
        die "$VENV exists but has no working bin/python; remove it and re-run"
    fi
    if [ -x "$VENV/bin/python" ] &&
       ! "$VENV/bin/python" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))'; then
        die "$VENV uses Python < 3.11; remove it and re-run"
    fi

    if python_env_is_current "$variant"; then
        say "Python environment up to date (torch $TORCH_VERSION, $variant build), skipping pip"
        return 0
    fi

    [ -x "$VENV/bin/python" ] || create_venv "$VENV"
    install_torch "$VENV/bin/python" "$variant"
    say "installing infinitystar-studio (editable) with the test and farm extras"
    "$VENV/bin/python" -m pip install -q -e "${ROOT}[test,farm]"
    wanted_stamp "$ROOT/pyproject.toml" "$variant" >"$STAMP.tmp"
    mv "$STAMP.tmp" "$STAMP"
    say "done"
}

main "$@"
