#!/bin/sh
# Regenerate the translation template resources/translations/strongroom.ts from the GUI's
# source texts (pyside6-lupdate, shipped with PySide6). Translators copy it to
# strongroom_<locale>.ts, translate it in Qt Linguist and compile it with
# `pyside6-lrelease strongroom_<locale>.ts`; the app loads strongroom_<locale>.qm for the
# system locale at start-up (app/strongroom/gui/i18n.py).
set -eu
cd "$(dirname "$0")/.."
LUPDATE="${LUPDATE:-$(dirname "$(command -v python3)")/pyside6-lupdate}"
[ -x "$LUPDATE" ] || LUPDATE=pyside6-lupdate
"$LUPDATE" app/strongroom/gui/*.py app/strongroom/gui/*/*.py -no-obsolete -locations relative \
    -ts resources/translations/strongroom.ts
