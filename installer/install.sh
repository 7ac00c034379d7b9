#!/usr/bin/env bash
# Install InfinityStar Studio for this user on Linux or macOS: a copy of the app and its own venv under a prefix
# (default ~/.local/share/infinitystar-studio), the torch build for this machine, the system libraries it needs,
# `istar-studio` and `istar` in ~/.local/bin, and a desktop entry (Linux) or an app in ~/Applications (macOS).
# Re-running updates it (pip only when the dependencies changed). `--uninstall` removes what it created, nothing
# else: the studio's data folder (your projects and models) is never touched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAG=install
# shellcheck source=installer/lib.sh
source "$ROOT/installer/lib.sh"

APP_ID="infinitystar-studio"
APP_NAME="InfinityStar Studio"
DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
PREFIX="$DATA_HOME/$APP_ID"
BIN_DIR="$HOME/.local/bin"
LAUNCHERS=(istar-studio istar)

usage() {
    cat <<EOF
usage: install.sh [--prefix DIR] [--bin-dir DIR] [--uninstall]
  --prefix DIR    where the app and its venv go (default: $PREFIX)
  --bin-dir DIR   where the istar-studio and istar commands are linked (default: $BIN_DIR)
  --uninstall     remove what an install with the same --prefix created
EOF
}

absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

# What this script created, one "kind<TAB>path" a line in creation order; --uninstall undoes it in reverse.
manifest() { printf '%s\n' "$PREFIX/installed-files.txt"; }

record() {
    local line
    line="$(printf '%s\t%s' "$1" "$2")"
    grep -qxF "$line" "$(manifest)" 2>/dev/null || printf '%s\n' "$line" >>"$(manifest)"
}

# mkdir -p that records each folder it creates, parents first, so that --uninstall removes them once empty.
make_dirs() {
    local dir="$1" missing=()
    while [ ! -d "$dir" ]; do
        missing=("$dir" ${missing[@]+"${missing[@]}"})
        dir="$(dirname "$dir")"
    done
    mkdir -p "$1"
    for dir in ${missing[@]+"${missing[@]}"}; do record dir "$dir"; done
}

copy_app() {
    say "copying the app to $PREFIX/app"
    record tree "$PREFIX/app"
    rm -rf "$PREFIX/app"
    mkdir "$PREFIX/app"
    (cd "$ROOT" && tar -cf - --exclude=__pycache__ --exclude='*.pyc' --exclude='*.egg-info' \
        engine desktop resources pyproject.toml README.md) | (cd "$PREFIX/app" && tar -xf -)
}

python_env() {
    local venv="$PREFIX/venv" variant wanted
    variant="$(torch_variant)"
    wanted="$(wanted_stamp "$PREFIX/app/pyproject.toml" "$variant")"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.istar-install-stamp" 2>/dev/null)" = "$wanted" ]; then
        say "Python environment up to date (torch $TORCH_VERSION, $variant build), skipping pip"
        return 0
    fi
    record tree "$venv"
    [ -x "$venv/bin/python" ] || create_venv "$venv"
    install_torch "$venv/bin/python" "$variant"
    # Installed in development mode so that the package runs from $PREFIX/app, where the built-in model in
    # resources/ sits beside it (engine.weights.store looks there).
    say "installing infinitystar-studio into $venv"
    "$venv/bin/python" -m pip install -q -e "$PREFIX/app"
    printf '%s\n' "$wanted" >"$venv/.istar-install-stamp"
}

link_launchers() {
    local name target link
    make_dirs "$BIN_DIR"
    for name in "${LAUNCHERS[@]}"; do
        target="$PREFIX/venv/bin/$name" link="$BIN_DIR/$name"
        if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
            :
        elif [ -e "$link" ] || [ -L "$link" ]; then
            say "note: $link exists and is not this install's; left as it is"
            continue
        else
            ln -s "$target" "$link"
        fi
        record link "$link"
    done
}

desktop_entry() {
    local apps="$DATA_HOME/applications" icons="$DATA_HOME/icons/hicolor/scalable/apps"
    local entry="$DATA_HOME/applications/$APP_ID.desktop" icon="$icons/$APP_ID.svg"
    make_dirs "$icons"
    cp "$PREFIX/app/resources/icons/$APP_ID.svg" "$icon"
    record file "$icon"
    make_dirs "$apps"
    cat >"$entry.tmp" <<EOF
[Desktop Entry]
Type=Application
Name=$APP_NAME
GenericName=Video Generator and Editor
Comment=Generate video with a local InfinityStar model and edit it on a timeline
Exec="$PREFIX/venv/bin/istar-studio"
Icon=$icon
Terminal=false
Categories=AudioVideo;Video;AudioVideoEditing;
StartupWMClass=istar-studio
EOF
    mv "$entry.tmp" "$entry"
    record file "$entry"
    say "desktop entry: $entry"
}

mac_app() {
    local app="$HOME/Applications/$APP_NAME.app"
    make_dirs "$app/Contents/MacOS"
    cat >"$app/Contents/Info.plist" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>CFBundleName</key><string>$APP_NAME</string>
    <key>CFBundleIdentifier</key><string>io.github.infinitystar-studio</string>
    <key>CFBundleExecutable</key><string>istar-studio</string>
    <key>CFBundlePackageType</key><string>APPL</string>
    <key>NSHighResolutionCapable</key><true/>
</dict>
</plist>
EOF
    record file "$app/Contents/Info.plist"
    printf '#!/bin/sh\nexec %q "$@"\n' "$PREFIX/venv/bin/istar-studio" >"$app/Contents/MacOS/istar-studio"
    chmod +x "$app/Contents/MacOS/istar-studio"
    record file "$app/Contents/MacOS/istar-studio"
    say "app: $app (a launcher of $PREFIX; it has no icon of its own)"
}

studio_home() {
    "$PREFIX/venv/bin/python" -c 'from engine.home import studio_home; print(studio_home())' 2>/dev/null || true
}

install() {
    case "$PREFIX" in
        *[\"\`\$\\%]*) die "the prefix may not hold any of \" \` \$ \\ % (a desktop entry cannot name it): $PREFIX" ;;
    esac
    ensure_system_packages "${RUNTIME_APT_PACKAGES[@]}"
    make_dirs "$PREFIX"
    copy_app
    python_env
    "$PREFIX/venv/bin/istar-studio" --version >/dev/null || die "the installed istar-studio does not start"
    link_launchers
    case "$(uname -s)" in
        Linux) desktop_entry ;;
        Darwin) mac_app ;;
    esac
    say "installed in $PREFIX"
    say "start it from the applications menu or with: $BIN_DIR/istar-studio   (check it: istar-studio --self-check)"
    case ":$PATH:" in *":$BIN_DIR:"*) ;; *) say "note: $BIN_DIR is not on your PATH" ;; esac
    say "your projects and models live in $(studio_home); --uninstall never removes them"
}

uninstall() {
    local entries kind path home
    if [ ! -f "$(manifest)" ]; then
        say "nothing installed at $PREFIX"
        return 0
    fi
    home="$(studio_home)"
    # Last created first, so each folder is empty by its turn; read before the manifest itself goes.
    entries="$(awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$(manifest)")"
    rm -f "$(manifest)"
    while IFS=$'\t' read -r kind path; do
        case "$kind" in
            tree | file) rm -rf "$path" ;;
            link)
                if [ -L "$path" ] && [[ "$(readlink "$path")" == "$PREFIX"/* ]]; then rm -f "$path"; fi ;;
            dir)
                if [ -d "$path" ] && ! rmdir "$path" 2>/dev/null; then
                    say "kept $path: it holds files this installer did not put there"
                fi ;;
        esac
    done <<<"$entries"
    say "removed $APP_NAME from $PREFIX"
    [ -z "$home" ] || say "your projects and models in $home are kept"
}

main() {
    local action=install
    while [ $# -gt 0 ]; do
        case "$1" in
            --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; PREFIX="$(absolute "$2")"; shift ;;
            --bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a folder"; BIN_DIR="$(absolute "$2")"; shift ;;
            --uninstall) action=uninstall ;;
            -h | --help) usage; return 0 ;;
            *) usage >&2; die "unknown argument: $1" ;;
        esac
        shift
    done
    case "$(uname -s)" in
        Linux | Darwin) ;;
        *) die "this script is for Linux and macOS; on Windows run installer\\install.ps1" ;;
    esac
    "$action"
}

main "$@"
