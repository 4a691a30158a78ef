#!/usr/bin/env bash
# Print the Debian Depends line for a bundle: the packages that ship the shared libraries
# its ELF files need but do not carry (glibc, X11/Wayland clients, GL, fontconfig, D-Bus).
#
#   packaging/deb-depends.sh /path/to/bundle
#
# Like dpkg-shlibdeps, but for a tree that is not built from a Debian source package.
set -euo pipefail
BUNDLE="$1"

# Libraries of optional plugins: Qt skips the plugin when they are missing (the GTK
# platform theme is only loaded inside a GTK desktop, which has GTK installed).
OPTIONAL_RE='^lib(gtk-3|gdk-3|gdk_pixbuf-2\.0|atk-1\.0|cairo|cairo-gobject|pango-1\.0|pangocairo-1\.0|vulkan)\.so'

# Packages for sonames the build machine may not have installed: everything the bundle
# links to and does not carry (Qt's xcb, Wayland, EGL/GLX, D-Bus and printing plugins).
# A soname found neither on this machine nor here stops the build: a silently missing
# Depends is a desktop where Qt aborts with "could not load the Qt platform plugin xcb".
declare -A KNOWN=(
  [libxcb.so.1]=libxcb1 [libX11.so.6]=libx11-6 [libX11-xcb.so.1]=libx11-xcb1
  [libxcb-cursor.so.0]=libxcb-cursor0 [libxcb-icccm.so.4]=libxcb-icccm4
  [libxcb-image.so.0]=libxcb-image0 [libxcb-keysyms.so.1]=libxcb-keysyms1
  [libxcb-randr.so.0]=libxcb-randr0 [libxcb-render.so.0]=libxcb-render0
  [libxcb-render-util.so.0]=libxcb-render-util0 [libxcb-shape.so.0]=libxcb-shape0
  [libxcb-shm.so.0]=libxcb-shm0 [libxcb-sync.so.1]=libxcb-sync1
  [libxcb-util.so.1]=libxcb-util1 [libxcb-xfixes.so.0]=libxcb-xfixes0
  [libxcb-xkb.so.1]=libxcb-xkb1 [libxcb-glx.so.0]=libxcb-glx0
  [libxcb-xinput.so.0]=libxcb-xinput0 [libxcb-xinerama.so.0]=libxcb-xinerama0
  [libxkbcommon.so.0]=libxkbcommon0 [libxkbcommon-x11.so.0]=libxkbcommon-x11-0
  [libwayland-client.so.0]=libwayland-client0 [libwayland-cursor.so.0]=libwayland-cursor0
  [libwayland-egl.so.1]=libwayland-egl1
  [libEGL.so.1]=libegl1 [libGL.so.1]=libgl1 [libOpenGL.so.0]=libopengl0
  [libcups.so.2]=libcups2 [libdbus-1.so.3]=libdbus-1-3 [libfontconfig.so.1]=libfontconfig1
  [libfreetype.so.6]=libfreetype6 [libglib-2.0.so.0]=libglib2.0-0
  [libgthread-2.0.so.0]=libglib2.0-0 [libgio-2.0.so.0]=libglib2.0-0
  [libgobject-2.0.so.0]=libglib2.0-0 [libharfbuzz.so.0]=libharfbuzz0b
  [libbrotlidec.so.1]=libbrotli1 [libbrotlicommon.so.1]=libbrotli1 [libbz2.so.1.0]=libbz2-1.0
  [libzstd.so.1]=libzstd1 [libgssapi_krb5.so.2]=libgssapi-krb5-2
  [libstdc++.so.6]=libstdc++6 [libgcc_s.so.1]=libgcc-s1
)

declare -A carried=() needed=()
while IFS= read -r -d '' f; do
  carried[$(basename "$f")]=1
done < <(find "$BUNDLE" \( -type f -o -type l \) -name '*.so*' -print0)

while IFS= read -r -d '' f; do
  readelf -h "$f" >/dev/null 2>&1 || continue
  while read -r soname; do
    needed[$soname]=1
  done < <(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$BUNDLE" -type f \( -name '*.so*' -o -perm -u+x \) -print0)

LDCACHE="$(ldconfig -p)"
declare -A pkgs=([libc6]=1)
missing=0
for soname in "${!needed[@]}"; do
  [ -n "${carried[$soname]:-}" ] && continue
  [[ "$soname" =~ $OPTIONAL_RE ]] && continue
  [[ "$soname" =~ ^(libc|libm|libdl|libpthread|librt|libutil|libresolv)\.so ]] && continue
  [[ "$soname" =~ ^ld-linux ]] && continue
  pkg=""
  path="$(awk -v s="$soname" '$1 == s && /,(x86-64|AArch64|64bit)/ {print $NF; exit}' <<<"$LDCACHE")"
  if [ -n "$path" ]; then
    real="$(readlink -f "$path")"
    pkg="$(dpkg -S "$real" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true)"
    pkg="${pkg%%:*}"
  fi
  [ -z "$pkg" ] && pkg="${KNOWN[$soname]:-}"
  if [ -z "$pkg" ]; then
    echo "deb-depends: no package known for $soname (add it to KNOWN)" >&2
    missing=1
    continue
  fi
  pkgs[$pkg]=1
done

[ "$missing" -eq 0 ] || exit 1

# glibc: the bundle's Python and Qt were linked on this release.
glibc="$(dpkg-query -W -f='${Version}' libc6 | sed 's/-.*//')"
out=""
for p in $(printf '%s\n' "${!pkgs[@]}" | sort); do
  if [ "$p" = libc6 ]; then p="libc6 (>= $glibc)"; fi
  out+="${out:+, }$p"
done
echo "$out"
