# Shared by setup.sh and install.sh (sourced, not run): system libraries, Python, and the torch build for this machine.
# The sourcing script sets TAG (its log prefix) first.
# shellcheck shell=bash

TORCH_VERSION="2.13.0"
TORCH_CPU_INDEX="https://download.pytorch.org/whl/cpu"
# What the app needs at run time on Debian/Ubuntu, and the library each package brings, for other distributions.
# shellcheck disable=SC2034  # used by the scripts that source this file
RUNTIME_APT_PACKAGES=(
    libportaudio2                                                   # sounddevice
    libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3          # Qt and OpenCV
    libxcb-icccm4 libxcb-cursor0 libxcb-keysyms1 libxcb-image0      # Qt's xcb platform plugin
    libxcb-render-util0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0
)
RUNTIME_LIBRARIES=(
    libportaudio.so.2 libEGL.so.1 libGL.so.1 libglib-2.0.so.0 libfontconfig.so.1 libdbus-1.so.3
    libxcb-icccm.so.4 libxcb-cursor.so.0 libxcb-keysyms.so.1 libxcb-image.so.0
    libxcb-render-util.so.0 libxcb-xkb.so.1 libxkbcommon-x11.so.0 libxcb-shape.so.0 libxcb-randr.so.0
)

say() { printf '[%s] %s\n' "$TAG" "$*"; }
die() { printf '[%s] error: %s\n' "$TAG" "$*" >&2; exit 1; }

missing_apt_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || printf '%s\n' "$pkg"
    done
}

missing_libraries() {
    local lib found
    found="$(ldconfig -p 2>/dev/null || true)"
    for lib in "${RUNTIME_LIBRARIES[@]}"; do
        grep -qF "$lib " <<<"$found" || printf '%s\n' "$lib"
    done
}

# Install the given Debian packages that are missing (as root, or with sudo when it can ask); elsewhere on Linux,
# name the libraries that are missing. Never fatal: the user is told what to install.
ensure_system_packages() {
    [ "$(uname -s)" = Linux ] || return 0
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
        local libs
        libs="$(missing_libraries | tr '\n' ' ')"
        if [ -z "$libs" ]; then
            say "system libraries present"
        else
            say "not a Debian/Ubuntu system: please install, with your package manager, the packages that provide"
            say "  $libs"
        fi
        return 0
    fi
    local missing
    mapfile -t missing < <(missing_apt_packages "$@")
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

# What an installed environment must match: the project's dependencies and the torch build chosen for this machine.
wanted_stamp() {
    local pyproject="$1" variant="$2"
    { cat "$pyproject"; printf 'torch=%s variant=%s\n' "$TORCH_VERSION" "$variant"; } | sha256_of_stdin
}

create_venv() {
    local venv="$1" python
    python="$(find_python)" || die "Python >= 3.11 not found (tried python3.11, python3); please install it"
    say "creating $venv with $python ($("$python" --version 2>&1))"
    "$python" -m venv "$venv" ||
        die "could not create $venv (on Debian/Ubuntu: apt-get install python3-venv), then re-run"
    say "upgrading pip"
    "$venv/bin/python" -m pip install -q --upgrade pip
}

install_torch() {
    local python="$1" variant="$2" installed
    installed="$("$python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)"
    # A torch of the right version but the wrong build still satisfies "torch==X", so pip would keep it.
    if { [ "$variant" = cuda ] && [[ "$installed" == *+cpu ]]; } ||
       { [ "$variant" = cpu ] && [[ "$installed" == *+cu* ]]; }; then
        say "removing torch $installed (wrong build for this machine)"
        "$python" -m pip uninstall -q -y torch
    fi
    local index_args=()
    # On Linux PyPI's torch is the CUDA build; macOS has only the one build, PyPI's.
    if [ "$variant" = cpu ] && [ "$(uname -s)" = Linux ] && command -v curl >/dev/null 2>&1 &&
       curl -sfm 5 -o /dev/null "$TORCH_CPU_INDEX/torch/"
    then
        index_args=(--index-url "$TORCH_CPU_INDEX")
    fi
    say "installing torch $TORCH_VERSION ($variant build${index_args:+, from the PyTorch CPU index}); can take minutes"
    "$python" -m pip install -q ${index_args[@]+"${index_args[@]}"} "torch==$TORCH_VERSION"
}
