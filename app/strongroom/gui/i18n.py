"""Translations: Qt translators loaded at start-up, and English plurals without a file.

Every text is written in English in the code and goes through Qt's translator. Counted
texts use Qt's plural support: ``self.tr("Deleted %n items.", "one: Deleted %n item.", n)``
— the source text is the plural form, the disambiguation comment carries the singular
(translators see it in Linguist), and `SourcePlurals` picks it when ``n == 1``. A
translation for another language is dropped in as ``resources/translations/strongroom_<locale>.qm``
(made from the template ``strongroom.ts`` with Qt Linguist and ``lrelease``); it is loaded
for the system locale and, having been installed last, is asked first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from .icons import RESOURCES

__all__ = ["SINGULAR_PREFIX", "TRANSLATIONS", "SourcePlurals", "install_translators"]

TRANSLATIONS = RESOURCES / "translations"
SINGULAR_PREFIX = "one: "


class SourcePlurals(QTranslator):
    """The English singular of counted texts, read from their disambiguation comment."""

    def translate(  # type: ignore[override]
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        if n == 1 and disambiguation and disambiguation.startswith(SINGULAR_PREFIX):
            return disambiguation[len(SINGULAR_PREFIX) :]
        return None  # not translated here: Qt asks the next translator, or keeps the source

    def isEmpty(self) -> bool:
        return False


def install_translators(
    app: QCoreApplication | None = None,
    locale: QLocale | None = None,
    folder: Path = TRANSLATIONS,
) -> list[QTranslator]:
    """Install the English plurals, then Qt's own and Strongroom's translation for `locale`
    (default: the system's) when `folder` has one. Returns the translators installed (the
    caller keeps them alive as long as the application)."""
    app = app or QCoreApplication.instance()
    if app is None:
        raise RuntimeError("install_translators needs a QApplication")
    locale = locale or QLocale.system()
    installed: list[QTranslator] = []
    base = SourcePlurals(app)
    if app.installTranslator(base):
        installed.append(base)
    qt = QTranslator(app)  # Qt's own dialogs' buttons (when Qt ships that language)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt.load(locale, "qtbase", "_", qt_dir, ".qm") and app.installTranslator(qt):
        installed.append(qt)
    ours = QTranslator(app)
    # Tries strongroom_de_DE.qm, strongroom_de.qm, ... for each of the locale's UI languages.
    if ours.load(locale, "strongroom", "_", str(folder), ".qm") and app.installTranslator(ours):
        installed.append(ours)
    return installed
