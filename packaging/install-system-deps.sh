#!/usr/bin/env bash
# Install the few Debian/Ubuntu packages Strongroom's tests and GUI need, only if missing.
# - age: the reference age CLI, used by the interoperability tests and benchmarks.
# - libegl1, libxkbcommon0, libfontconfig1, libdbus-1-3: loaded by Qt even offscreen.
# - xvfb, xauth: a virtual screen for screenshots and manual checks.
# - fuse3, libfuse3-3: the crash-simulation file system of the power-loss tests.
set -euo pipefail

need=()
command -v age >/dev/null 2>&1 || need+=(age)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb xauth)
command -v fusermount3 >/dev/null 2>&1 || need+=(fuse3)
for lib in libEGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3 libGL.so.1 \
    libfuse3.so.3; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || need+=("$lib")
done
[ ${#need[@]} -eq 0 ] && exit 0

# Map library sonames to the Debian packages that ship them.
pkgs=()
for n in "${need[@]}"; do
  case "$n" in
    libEGL.so.1) pkgs+=(libegl1) ;;
    libxkbcommon.so.0) pkgs+=(libxkbcommon0) ;;
    libfontconfig.so.1) pkgs+=(libfontconfig1) ;;
    libdbus-1.so.3) pkgs+=(libdbus-1-3) ;;
    libGL.so.1) pkgs+=(libgl1) ;;
    libfuse3.so.3) pkgs+=(libfuse3-3) ;;
    *) pkgs+=("$n") ;;
  esac
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install: ${pkgs[*]} (no apt-get found)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing system packages: ${pkgs[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
