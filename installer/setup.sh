#!/usr/bin/env bash
# Prepare this checkout: system libraries, .venv, the right torch build, the package in editable mode.
# Safe to re-run: it skips every step that is already done. `setup.sh --check` only reports (exit 1 if work is left).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.istar-setup-stamp"
TORCH_VERSION="2.13.0"
TORCH_CPU_INDEX="https://download.pytorch.org/whl/cpu"
APT_PACKAGES=(
    libportaudio2                                                   # sounddevice
    xvfb xauth                                                      # screenshots under a virtual display
    libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3          # Qt and OpenCV
    libxcb-icccm4 libxcb-cursor0 libxcb-keysyms1 libxcb-image0      # Qt's xcb platform plugin
    libxcb-render-util0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0
)

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

missing_apt_packages() {
    local pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || printf '%s\n' "$pkg"
    done
}

ensure_system_packages() {
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
        say "not a Debian/Ubuntu system: install these with your package manager if missing:"
        say "  PortAudio (for sounddevice), Xvfb and xauth (screenshot tests), EGL, OpenGL, GLib, fontconfig, D-Bus,"
        say "  and Qt's xcb libraries: xcb-icccm, xcb-cursor, xcb-keysyms, xcb-image, xcb-render-util, xcb-xkb,"
        say "  xkbcommon-x11, xcb-shape, xcb-randr"
        return 0
    fi
    local missing
    mapfile -t missing < <(missing_apt_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        say "system packages present"
        return 0
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then
            sudo=(sudo)
        else
            say "missing system packages, and no root or sudo to install them; please run:"
            say "  (as root) apt-get install --no-install-recommends ${missing[*]}"
            return 0
        fi
    fi
    say "installing system packages: ${missing[*]}"
    if ! { ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
           ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
               "${missing[@]}" >/dev/null; }; then
        say "warning: apt-get failed; install these yourself: ${missing[*]}"
    fi
}

find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

torch_variant() {
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
        echo cuda
    else
        echo cpu
    fi
}

sha256_of_stdin() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum | cut -d' ' -f1
    else
        shasum -a 256 | cut -d' ' -f1
    fi
}

# What the installed environment must match: the project's dependencies and the torch build chosen for this machine.
wanted_stamp() {
    { cat "$ROOT/pyproject.toml"; printf 'torch=%s variant=%s\n' "$TORCH_VERSION" "$1"; } | sha256_of_stdin
}

python_env_is_current() {
    [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(wanted_stamp "$1")" ]
}

create_venv() {
    local python
    python="$(find_python)" || die "Python >= 3.11 not found (tried python3.11, python3); please install it"
    say "creating .venv with $python ($("$python" --version 2>&1))"
    "$python" -m venv "$VENV" ||
        die "could not create .venv (on Debian/Ubuntu: apt-get install python3-venv), then re-run"
    say "upgrading pip"
    "$VENV/bin/python" -m pip install -q --upgrade pip
}

install_torch() {
    local variant="$1" pip=("$VENV/bin/python" -m pip) installed
    installed="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)"
    # A torch of the right version but the wrong build still satisfies "torch==X", so pip would keep it.
    if { [ "$variant" = cuda ] && [[ "$installed" == *+cpu ]]; } ||
       { [ "$variant" = cpu ] && [[ "$installed" == *+cu* ]]; }; then
        say "removing torch $installed (wrong build for this machine)"
        "${pip[@]}" uninstall -q -y torch
    fi
    local index_args=()
    if [ "$variant" = cpu ] && command -v curl >/dev/null 2>&1 && curl -sfm 5 -o /dev/null "$TORCH_CPU_INDEX/torch/"
    then
        index_args=(--index-url "$TORCH_CPU_INDEX")
    fi
    say "installing torch $TORCH_VERSION ($variant build${index_args:+, from the PyTorch CPU index}); can take minutes"
    "${pip[@]}" install -q ${index_args[@]+"${index_args[@]}"} "torch==$TORCH_VERSION"
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
        if command -v dpkg >/dev/null 2>&1 && [ -n "$(missing_apt_packages)" ]; then
            say "system packages missing: $(missing_apt_packages | tr '\n' ' ')"
            ok=1
        fi
        if python_env_is_current "$variant"; then say "Python environment up to date"; else
            say "Python environment needs setup"
            ok=1
        fi
        return "$ok"
    fi

    ensure_system_packages

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

    [ -x "$VENV/bin/python" ] || create_venv
    install_torch "$variant"
    say "installing infinitystar-studio (editable) with test extras"
    "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
    wanted_stamp "$variant" >"$STAMP.tmp"
    mv "$STAMP.tmp" "$STAMP"
    say "done"
}

main "$@"
