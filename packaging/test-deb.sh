#!/usr/bin/env bash
# Install the .deb into a scratch root (dpkg -x: no root, no system changes) and run the
# installed launcher: `strongroom --version` and `strongroom --self-test`.
#
#   packaging/test-deb.sh [PATH.deb]     (default: build it with packaging/build.sh)
#
# The launcher in /usr/bin execs /opt/strongroom/strongroom; in the scratch root it is
# rewritten to point there. The bundle runs on its own Python and Qt; only the system
# libraries the .deb depends on come from this machine. Qt runs offscreen.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

DEB="${1:-}"
if [ -z "$DEB" ]; then
  bash packaging/build.sh
  DEB="$(ls -t dist/strongroom_*.deb | head -n1)"
fi
[ -f "$DEB" ] || { echo "no such package: $DEB" >&2; exit 1; }

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/strongroom-deb.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
dpkg-deb --info "$DEB" | sed -n 's/^ \(Package\|Version\|Architecture\|Installed-Size\):/  \1:/p'
dpkg -x "$DEB" "$SCRATCH"

# What a desktop needs is where it belongs.
ID=app.strongroom.Strongroom
for f in usr/bin/strongroom opt/strongroom/strongroom \
  "usr/share/applications/$ID.desktop" "usr/share/metainfo/$ID.metainfo.xml" \
  "usr/share/mime/packages/$ID.xml" "usr/share/icons/hicolor/scalable/apps/$ID.svg" \
  "usr/share/icons/hicolor/48x48/apps/$ID.png" "usr/share/icons/hicolor/256x256/apps/$ID.png"; do
  [ -e "$SCRATCH/$f" ] || { echo "missing from the package: /$f" >&2; exit 1; }
done
dpkg-deb --ctrl-tarfile "$DEB" | tar -t | grep -q './postinst' || { echo "no postinst" >&2; exit 1; }

# The shared-mime-info types resolve once the database is built from the package's XML.
if command -v update-mime-database >/dev/null; then
  mkdir -p "$SCRATCH/mime/packages"
  cp /usr/share/mime/packages/freedesktop.org.xml "$SCRATCH/usr/share/mime/packages/$ID.xml" \
    "$SCRATCH/mime/packages/"
  XDG_DATA_DIRS="$SCRATCH" update-mime-database "$SCRATCH/mime" >/dev/null
  grep -q '^application/x-strongroom-vault' "$SCRATCH/mime/types"
  grep -q '^application/x-age-encrypted' "$SCRATCH/mime/types"
  grep -q 'vault.strongroom' "$SCRATCH/mime/globs2"
  echo "  mime types: application/x-strongroom-vault, application/x-age-encrypted registered"
fi

sed -i "s|/opt/strongroom/|$SCRATCH/opt/strongroom/|" "$SCRATCH/usr/bin/strongroom"
export QT_QPA_PLATFORM=offscreen
# A clean environment: no virtualenv, no PYTHONPATH, a PATH without this repository's tools.
run() { env -i HOME="$SCRATCH/home" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen \
  LANG=C.UTF-8 XDG_RUNTIME_DIR= "$@"; }
mkdir -p "$SCRATCH/home"

version="$(run "$SCRATCH/usr/bin/strongroom" --version)"
echo "  $SCRATCH/usr/bin/strongroom --version: $version"
expected="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/strongroom/__init__.py)"
[ "$version" = "strongroom $expected" ] || { echo "unexpected version: $version" >&2; exit 1; }

start=$(date +%s.%N)
run "$SCRATCH/usr/bin/strongroom" --self-test 2> >(grep -v 'propagateSizeHints' >&2)
printf '  self-test passed in %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"
echo "test-deb: OK ($DEB)"
