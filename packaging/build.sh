#!/usr/bin/env bash
# Build the one-folder PyInstaller bundle dist/strongroom/ and the Debian package
# dist/strongroom_VERSION_ARCH.deb. Run from anywhere: `make package` calls this.
#
#   packaging/build.sh            bundle + .deb (+ validators)
#   packaging/build.sh --bundle   only the bundle
#
# PyInstaller is a build-time tool (pyproject's `package` extra), installed into the
# virtualenv on demand; it is never a runtime dependency.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "no virtualenv at $VENV: run 'make setup' first" >&2; exit 1; }

VERSION="$("$PY" -c 'import re,sys; print(re.search(r"__version__ = \"([^\"]+)\"", open("app/strongroom/__init__.py").read()).group(1))')"
start=$(date +%s.%N)

if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
  # The same requirement strings as pyproject's `package` extra, without reinstalling the
  # project itself (others may be running tests against the editable install).
  mapfile -t reqs < <("$PY" - <<'PYEOF'
import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["package"]))
PYEOF
)
  echo "Installing ${reqs[*]} into $VENV"
  "$PY" -m pip install --quiet "${reqs[@]}"
fi

echo "== PyInstaller bundle (strongroom $VERSION)"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --workpath build/pyinstaller --distpath dist packaging/strongroom.spec

BUNDLE=dist/strongroom
# strongroom.gui.icons finds resources/ three levels above its module: in the bundle the
# module sits at _internal/strongroom/gui/, so resources/ goes next to the executable.
rm -rf "$BUNDLE/resources"
mkdir -p "$BUNDLE/resources"
cp -r resources/icons "$BUNDLE/resources/icons"
cp -r resources/translations "$BUNDLE/resources/translations"  # strongroom_<locale>.qm
echo "$VERSION" > "$BUNDLE/VERSION"

bundle_end=$(date +%s.%N)
size_mb=$(du -sm "$BUNDLE" | cut -f1)
printf 'bundle: %s, %s MiB, built in %.0f s\n' "$BUNDLE" "$size_mb" "$(echo "$bundle_end - $start" | bc)"
"$BUNDLE/strongroom" --version

if [ "${1:-}" = "--bundle" ]; then exit 0; fi

bash packaging/build-deb.sh "$BUNDLE" "$VERSION"
end=$(date +%s.%N)
printf 'total build time (bundle + .deb): %.0f s\n' "$(echo "$end - $start" | bc)"
