#!/usr/bin/env bash
# Package a PyInstaller bundle as a .deb with dpkg-deb, then validate the desktop files.
#
#   packaging/build-deb.sh [BUNDLE_DIR] [VERSION]     (defaults: dist/strongroom, the app's)
#
# Layout: the bundle in /opt/strongroom, /usr/bin/strongroom, the .desktop entry, AppStream
# metainfo, shared-mime-info types for vault.strongroom and *.age, hicolor icons.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${VENV:-.venv}/bin/python"
BUNDLE="${1:-dist/strongroom}"
VERSION="${2:-$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/strongroom/__init__.py)}"
ID=app.strongroom.Strongroom
ARCH="$(dpkg --print-architecture)"
[ -x "$BUNDLE/strongroom" ] || { echo "no bundle at $BUNDLE: run packaging/build.sh" >&2; exit 1; }

# The validators are Debian packages; installed here (not by `make test`) when missing.
need=()
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
command -v appstreamcli >/dev/null || need+=(appstream)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
fi

echo "== validate desktop files"
desktop-file-validate "resources/linux/$ID.desktop"
appstreamcli validate --no-net "resources/linux/$ID.metainfo.xml"

STAGE="build/deb/strongroom_${VERSION}_${ARCH}"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/metainfo" "$STAGE/usr/share/mime/packages" \
  "$STAGE/usr/share/doc/strongroom"
cp -a "$BUNDLE" "$STAGE/opt/strongroom"
install -m 755 packaging/debian/strongroom.sh "$STAGE/usr/bin/strongroom"
install -m 644 "resources/linux/$ID.desktop" "$STAGE/usr/share/applications/"
install -m 644 "resources/linux/$ID.metainfo.xml" "$STAGE/usr/share/metainfo/"
install -m 644 "resources/linux/$ID.xml" "$STAGE/usr/share/mime/packages/"

HICOLOR="$STAGE/usr/share/icons/hicolor"
install -D -m 644 resources/icons/app.svg "$HICOLOR/scalable/apps/$ID.svg"
install -D -m 644 resources/icons/app.svg \
  "$HICOLOR/scalable/mimetypes/application-x-strongroom-vault.svg"
install -D -m 644 resources/linux/application-x-age-encrypted.svg \
  "$HICOLOR/scalable/mimetypes/application-x-age-encrypted.svg"
QT_QPA_PLATFORM=offscreen "$PY" packaging/render_icons.py resources/icons/app.svg \
  "$HICOLOR" "$ID" 16 24 32 48 64 128 256
find "$HICOLOR" -name '*.png' -exec chmod 644 {} +

cat > "$STAGE/usr/share/doc/strongroom/copyright" <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: strongroom

Files: *
License: Apache-2.0
 On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.
 The bundle in /opt/strongroom also contains Python, Qt for Python (LGPL-3.0),
 SQLCipher, cryptography, argon2-cffi and their own licenses.
COPYRIGHT

# Depends: the system libraries the bundle links to but does not carry (X11/Wayland
# clients, GL, fontconfig, D-Bus, glibc), found from the ELF files' NEEDED entries.
DEPENDS="$(bash packaging/deb-depends.sh "$STAGE/opt/strongroom")"
INSTALLED_SIZE="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" \
  -e "s/@DEPENDS@/$DEPENDS/" packaging/debian/control.in > "$STAGE/DEBIAN/control"
install -m 755 packaging/debian/postinst packaging/debian/postrm "$STAGE/DEBIAN/"

# Normal permissions whatever the umask: directories 755, files 644 unless executable.
find "$STAGE" -type d -exec chmod 755 {} +
find "$STAGE" -type f ! -perm -u+x -exec chmod 644 {} +
find "$STAGE" -type f -perm -u+x -exec chmod 755 {} +

# The staged copies must still validate (what the package installs is what was checked).
desktop-file-validate "$STAGE/usr/share/applications/$ID.desktop"
appstreamcli validate --no-net "$STAGE/usr/share/metainfo/$ID.metainfo.xml" >/dev/null

DEB="dist/strongroom_${VERSION}_${ARCH}.deb"
mkdir -p dist
dpkg-deb --build --root-owner-group -Zxz --threads-max="$(nproc)" "$STAGE" "$DEB" >/dev/null
printf 'deb: %s, %s MiB (installed %s MiB)\n' "$DEB" \
  "$(du -m "$DEB" | cut -f1)" "$((INSTALLED_SIZE / 1024))"
