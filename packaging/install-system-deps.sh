#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Strongroom's tests and GUI need, only those missing.
#
#   packaging/install-system-deps.sh            install what is missing (root or sudo)
#   packaging/install-system-deps.sh --dry-run  print what is missing, install nothing
#   packaging/install-system-deps.sh --list     print the soname -> package table below
#
# - age: the reference age CLI (age, age-keygen), used by the interoperability tests.
# - xvfb, xauth: a virtual screen (xvfb-run) for `make test-fresh` and manual checks.
# - syncthing: two real instances on loopback for tests/test_syncthing_e2e.py.
# - fuse3 (with libfuse3-3): the crash-simulation file system of tests/test_power_loss.py.
# - the shared libraries PySide6's Qt links to and does not carry (LIBS below).
#
# LIBS is every library `ldd` reports, outside the wheel, for QtCore, the Qt modules the app
# imports (QtGui, QtWidgets, QtNetwork, QtSvg, QtPrintSupport, QtDBus) and the xcb and
# offscreen platform plugins: the packages a fresh `debootstrap --variant=minbase` lacks
# (libglib2.0-0 for QtCore; the libxcb-* and libxkbcommon-x11-0 for the xcb plugin) and the
# ones it happens to have. A fresh machine has no apt-file and `dpkg -S` knows only installed
# files, so the table is written out once (from `ldd` and `dpkg -S` on a machine that has
# them, as packaging/deb-depends.sh does for the .deb) and tests/test_system_deps.py checks
# it against `ldd` of the installed PySide6 on every run: a Qt upgrade that links a new
# library fails that test instead of a newcomer's `make run`.
#
# Where a package was renamed (the 64-bit time_t transition: Debian 13 and Ubuntu 24.04 add
# `t64`), the alternatives are listed; the first one apt has a candidate for is installed.
set -euo pipefail

# soname                     package[|alternative...]
LIBS='
libglib-2.0.so.0             libglib2.0-0t64|libglib2.0-0
libgthread-2.0.so.0          libglib2.0-0t64|libglib2.0-0
libpcre2-8.so.0              libpcre2-8-0
libzstd.so.1                 libzstd1
libz.so.1                    zlib1g
libstdc++.so.6               libstdc++6
libgcc_s.so.1                libgcc-s1
libc.so.6                    libc6
libm.so.6                    libc6
libdl.so.2                   libc6
libpthread.so.0              libc6
libresolv.so.2               libc6
libxcb.so.1                  libxcb1
libxcb-cursor.so.0           libxcb-cursor0
libxcb-icccm.so.4            libxcb-icccm4
libxcb-image.so.0            libxcb-image0
libxcb-keysyms.so.1          libxcb-keysyms1
libxcb-randr.so.0            libxcb-randr0
libxcb-render.so.0           libxcb-render0
libxcb-render-util.so.0      libxcb-render-util0
libxcb-shape.so.0            libxcb-shape0
libxcb-shm.so.0              libxcb-shm0
libxcb-sync.so.1             libxcb-sync1
libxcb-util.so.1             libxcb-util1
libxcb-xfixes.so.0           libxcb-xfixes0
libxcb-xkb.so.1              libxcb-xkb1
libxkbcommon.so.0            libxkbcommon0
libxkbcommon-x11.so.0        libxkbcommon-x11-0
libX11.so.6                  libx11-6
libX11-xcb.so.1              libx11-xcb1
libXau.so.6                  libxau6
libXdmcp.so.6                libxdmcp6
libbsd.so.0                  libbsd0
libmd.so.0                   libmd0
libEGL.so.1                  libegl1
libGL.so.1                   libgl1
libGLX.so.0                  libglx0
libGLdispatch.so.0           libglvnd0
libfontconfig.so.1           libfontconfig1
libfreetype.so.6             libfreetype6
libexpat.so.1                libexpat1
libpng16.so.16               libpng16-16t64|libpng16-16
libbrotlidec.so.1            libbrotli1
libbrotlicommon.so.1         libbrotli1
libdbus-1.so.3               libdbus-1-3
libsystemd.so.0              libsystemd0
libcap.so.2                  libcap2
libgcrypt.so.20              libgcrypt20
libgpg-error.so.0            libgpg-error0
liblzma.so.5                 liblzma5
liblz4.so.1                  liblz4-1
libgssapi_krb5.so.2          libgssapi-krb5-2
libkrb5.so.3                 libkrb5-3
libk5crypto.so.3             libk5crypto3
libkrb5support.so.0          libkrb5support0
libcom_err.so.2              libcom-err2
libkeyutils.so.1             libkeyutils1
'

# command                    package
COMMANDS='
age                          age
age-keygen                   age
Xvfb                         xvfb
xvfb-run                     xvfb
xauth                        xauth
syncthing                    syncthing
fusermount3                  fuse3
'

MODE="${1:-install}"
case "$MODE" in
  install | --dry-run) ;;
  --list)
    awk 'NF == 2 {print $1, $2}' <<<"$LIBS"
    exit 0
    ;;
  *)
    echo "usage: $0 [--dry-run | --list]" >&2
    exit 2
    ;;
esac

need=()
while read -r cmd pkg; do
  [ -n "$cmd" ] || continue
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done <<<"$COMMANDS"

# The linker cache is read once into a variable. Not `ldconfig -p | grep -q`: under pipefail,
# grep -q exits at the first match, ldconfig dies of SIGPIPE writing the rest, and the
# pipeline fails, so a library that is present was reported missing (8 of 30 runs).
# A library counts only for the architecture of this machine's libc (not an i386 copy).
LDCACHE="$(ldconfig -p 2>/dev/null || true)"
ARCH="$(awk '$1 == "libc.so.6" {print $2; exit}' <<<"$LDCACHE")"
declare -A present=()
while read -r soname; do
  present[$soname]=1
done < <(awk -v a="$ARCH" 'NR > 1 && (a == "" || $2 == a) {print $1}' <<<"$LDCACHE")
while read -r soname pkg; do
  [ -n "$soname" ] || continue
  [ -n "${present[$soname]:-}" ] || need+=("$pkg")
done <<<"$LIBS"

[ ${#need[@]} -eq 0 ] && exit 0
# Each entry once, in order.
mapfile -t need < <(printf '%s\n' "${need[@]}" | awk '!seen[$0]++')

if [ "$MODE" = --dry-run ]; then
  echo "missing: ${need[*]}"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install the equivalents of these Debian packages: ${need[*]} (no apt-get here)" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "Missing system packages: ${need[*]}; run this script as root (no sudo here)" >&2
    exit 1
  fi
  SUDO=(sudo)
fi
# Another apt (unattended-upgrades, a second `make`) may hold the lock: wait for it.
# apt-get install waits by itself with DPkg::Lock::Timeout; apt-get update (apt 2.6, Debian
# 12) ignores it for the lists lock and fails at once, so it is retried for as long.
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
RETRY_SECONDS="${STRONGROOM_APT_RETRY_SECONDS:-5}"
apt_update() {
  local deadline=$((SECONDS + 600)) out said=""
  while :; do
    if out="$("${APT[@]}" update -qq 2>&1)"; then
      [ -z "$out" ] || printf '%s\n' "$out"
      return 0
    fi
    if [[ "$out" == *"Could not get lock"* ]] && [ "$SECONDS" -lt "$deadline" ]; then
      [ -n "$said" ] || echo "Waiting for another apt to finish: ${out%%$'\n'*}"
      said=1
      sleep "$RETRY_SECONDS"
      continue
    fi
    printf '%s\n' "$out" >&2
    return 1
  done
}
echo "Installing system packages for: ${need[*]}"
apt_update

# Resolve alternatives: the first name with an installable candidate on this release.
pkgs=()
for alts in "${need[@]}"; do
  chosen=""
  IFS='|' read -r -a names <<<"$alts"
  for name in "${names[@]}"; do
    policy="$(apt-cache policy "$name" 2>/dev/null || true)"
    candidate="$(awk '$1 == "Candidate:" {print $2; exit}' <<<"$policy")"
    if [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then
      chosen="$name"
      break
    fi
  done
  if [ -z "$chosen" ]; then
    echo "No package available for ${alts//|/ or } on this release" >&2
    exit 1
  fi
  pkgs+=("$chosen")
done
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | awk '!seen[$0]++')
echo "apt-get install ${pkgs[*]}"
"${APT[@]}" install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
