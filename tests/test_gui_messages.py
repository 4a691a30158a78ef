"""Messages people can act on (issue 12, items 10 and 11): Activity's details as sentences,
previews logged only when shown, plurals through Qt's translator, a translation template."""

from __future__ import annotations

import re
import sys
import tokenize
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QDate, QLocale, QObject

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault
from strongroom.gui.models import HistoryTableModel
from strongroom.vault import HistoryEntry
from strongroom.vault.history import ACTIONS

ROOT = Path(__file__).resolve().parents[1]
SHARE_ID = "0f3c5a9e2b7d41c68e9a0b1c2d3e4f50"
GROUP_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
FP = "01234 56789 01234 56789 01234"

# Details as the vault records them (see the `_history.append` calls in strongroom.vault).
SAMPLES: dict[str, list[dict[str, object]]] = {
    "vault-created": [{"format": 1}],
    "vault-unlocked": [{}, {"with": "session"}],
    "vault-locked": [{}],
    "unlock-failed": [
        {
            "count": 3,
            "first": "2026-12-01T10:00:00.000000Z",
            "last": "2026-12-01T10:05:00.000000Z",
            "kinds": {"passphrase": 3},
        },
        {"count": 1, "kinds": {"recovery-key": 1}},
    ],
    "recovery-used": [{}],
    "passphrase-changed": [{}, {"by": "recovery"}],
    "file-added": [{"size": 1536}],
    "file-previewed": [{}],
    "file-exported": [
        {"to": "/home/ben/out"},
        {"to": "stream"},
        {"to": "stream", "complete": False},
    ],
    "file-opened-externally": [{}],
    "file-renamed": [{"from": "/a.txt", "to": "/b.txt"}],
    "file-moved": [{"from": "/a.txt", "to": "/docs/a.txt"}],
    "file-deleted": [{"size": 10}],
    "folder-created": [{}],
    "folder-renamed": [{"from": "/a", "to": "/b"}],
    "folder-moved": [{"from": "/a", "to": "/b/a"}],
    "folder-deleted": [{"files": 1}, {"files": 4}],
    "folder-exported": [{"to": "/home/ben/out"}],
    "integrity-check": [
        {"deep": True, "ok": True, "problems": 0},
        {"deep": False, "ok": False, "problems": 2},
    ],
    "retention-changed": [{"to": "30d"}, {"to": "unlimited"}],
    "history-pruned": [{"through_seq": 120, "removed": 119}],
    "checkpoint-reset": [{}],
    "vault-backed-up": [
        {
            "to": "/media/usb/vault-backup",
            "objects": 3,
            "copied": 1,
            "removed": 0,
            "bytes": 1024,
            "incremental": True,
        }
    ],
    "backup-made": [{"from": "/home/ben/My.strongroom", "objects": 3, "source_seq": 40}],
    "history-delayed": [{"batch": SHARE_ID, "count": 4, "reason": "disk-full"}],
    "history-gap": [{"batch": SHARE_ID, "reason": "does not authenticate"}],
    "header-repaired": [{"copy": "vault.strongroom.bak", "reason": "damaged"}],
    "header-upgraded": [{"to": 2}],
    "identity-created": [{"fingerprint": FP}],
    "identity-renamed": [{"from": "Ana", "to": "Ana Lima"}],
    "identity-exported": [{}],
    "contact-added": [{"contact": "Ben Okafor", "fingerprint": FP}],
    "contact-updated": [{"contact": "Ben Okafor", "fingerprint": FP}],
    "contact-renamed": [{"from": "Ben", "to": "Ben Okafor"}],
    "contact-verified": [{"contact": "Ben Okafor", "fingerprint": FP}],
    "contact-unverified": [{"contact": "Ben Okafor", "fingerprint": FP}],
    "contact-removed": [{"contact": "Ben Okafor", "fingerprint": FP}],
    "group-created": [{"group": GROUP_ID, "name": "Family"}],
    "group-member-added": [
        {"group": GROUP_ID, "name": "Family", "member": "Ben", "fingerprint": FP, "epoch": 2}
    ],
    "group-member-removed": [
        {
            "group": GROUP_ID,
            "name": "Family",
            "member": "Ben",
            "fingerprint": FP,
            "epoch": 3,
            "could_read": 2,
        },
        {
            "group": GROUP_ID,
            "name": "Family",
            "member": "Ben",
            "share": SHARE_ID,
            "could_read": True,
            "epoch": 3,
        },
    ],
    "group-key-received": [{"group": GROUP_ID, "name": "Family", "epoch": 2, "from": "Ana"}],
    "share-created": [
        {"share": SHARE_ID, "to": "Ben Okafor", "kind": "person", "receipts": False},
        {
            "share": SHARE_ID,
            "to": "Family",
            "kind": "group",
            "receipts": True,
            "group": GROUP_ID,
            "epoch": 1,
            "expires": "2027-01-01T00:00:00.000000Z",
        },
    ],
    "share-revoked": [{"share": SHARE_ID, "to": "Ben Okafor", "kind": "person"}],
    "share-received": [
        {"share": SHARE_ID, "from": "Ana", "name": "a.txt", "size": 12, "fingerprint": FP},
        {"share": SHARE_ID, "from": "unsigned", "name": "a.txt", "size": 12, "forwarded": True},
        {"share": SHARE_ID, "from": "Ana", "name": "a.txt", "size": 12, "group": GROUP_ID},
        {
            "share": SHARE_ID,
            "from": "Ana (not in your contacts)",
            "name": "a.txt",
            "size": 12,
            "fingerprint": FP,
            "accepted": "from an unknown sender",
        },
    ],
    "share-refused": [
        {"share": SHARE_ID, "reason": "revoked", "from": "Ana", "name": "a.txt"},
        {"share": SHARE_ID, "reason": "expired", "from": f"unknown sender {FP}", "name": "a"},
        {
            "share": SHARE_ID,
            "reason": "refused",
            "from": "Ana (not in your contacts)",
            "fingerprint": FP,
            "name": "a.txt",
        },
    ],
    "share-waiting": [
        {
            "share": SHARE_ID,
            "from": "Ana (not in your contacts)",
            "fingerprint": FP,
            "name": "a.txt",
            "size": 12,
        },
    ],
    "share-dropped": [
        {
            "share": SHARE_ID,
            "reason": "gone",
            "why": "its file (/x/sr-a.age) is gone",
            "from": "Ana (not in your contacts)",
            "fingerprint": FP,
            "name": "a.txt",
        },
    ],
    "share-erased": [
        {"share": SHARE_ID, "reason": "revoked", "by": "Ana"},
        {"share": SHARE_ID, "reason": "expired"},
    ],
    "receipt-sent": [{"share": SHARE_ID, "event": "opened", "to": "Ana"}],
    "receipt-received": [
        {
            "share": SHARE_ID,
            "event": "received",
            "by": "Ben",
            "fingerprint": FP,
            "at": "2026-12-01T10:00:00.000000Z",
        }
    ],
    "message-rejected": [
        {"file": "x.age", "reason": "not signed by a contact", "kind": "revocation"}
    ],
    "exchange-set": [{"to": "/home/ana/Sync/strongroom"}, {"to": ""}],
    "receipts-policy-changed": [{"to": "never"}],
    "file-edited": [{"size": 12, "version": 2}],
    "share-update-sent": [{"share": "abc", "to": "Ben Okafor", "kind": "contact", "version": 2}],
    "share-update-received": [
        {"share": "abc", "from": "Ana", "size": 12, "version": 2, "fingerprint": "AB12"}
    ],
    "version-restored": [{"size": 12, "version": 3, "from": 1}],
    "version-pruned": [{"size": 12, "version": 1, "reason": "policy"}],
    "version-policy-changed": [
        {"keep": "all"},
        {"keep": "last", "count": 5},
        {"keep": "days", "days": 30},
    ],
    "file-trashed": [{"from": "/docs", "size": 12}],
    "folder-trashed": [{"from": "/docs", "files": 3}],
    "file-untrashed": [{"to": "/docs/a.txt"}],
    "folder-untrashed": [{"to": "/docs/b (2)"}],
    "trash-policy-changed": [{"days": 30}, {"days": None}],
}

RAW = re.compile(
    r"[{}]|\bTrue\b|\bFalse\b|[0-9a-fA-F]{32}|"
    r"\b(receipts|kinds?|format|share|group|epoch|count|reason|batch|with|by|at|ok|deep): "
)


def _entry(seq: int, action: str, details: dict[str, object]) -> HistoryEntry:
    t = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    return HistoryEntry(seq, t, action, None, "/a.txt", details)


def test_every_history_action_has_a_sample():
    assert set(SAMPLES) == set(ACTIONS)


def test_activity_details_read_as_sentences(qtbot, sync_runner):
    """Issue 12 item 10: no `receipts: False`, `kinds: {...}`, hex ids or `format: 1`."""
    entries = [
        _entry(i, action, d) for i, (action, ds) in enumerate(sorted(SAMPLES.items())) for d in ds
    ]
    model = HistoryTableModel()
    model.set_fetch(lambda before, limit: [] if before is not None else entries)
    assert model.rowCount() == len(entries)
    for row, e in enumerate(entries):
        text = model.data(model.index(row, HistoryTableModel.COL_DETAILS))
        assert not RAW.search(text), f"{e.action}: raw details in {text!r}"
        assert text, f"{e.action} {e.details} has no sentence"
    shared = model.data(model.index(entries.index(_find(entries, "share-created")), 3))
    assert shared == "Shared with Ben Okafor, no receipts asked."


def _find(entries: list[HistoryEntry], action: str) -> HistoryEntry:
    return next(e for e in entries if e.action == action)


def test_every_action_has_its_own_describer():
    from strongroom.gui.history_text import DESCRIBERS, HistorySentences

    assert set(DESCRIBERS) == set(ACTIONS)
    for action, method in DESCRIBERS.items():
        assert callable(getattr(HistorySentences, method)), action


def test_date_filters_use_the_locale(window, services):
    """Dates in the filters read the locale's way, with the whole year."""
    old = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        from strongroom.gui.activity_page import ActivityPage

        page = ActivityPage(services)
        page.from_date.setDate(QDate(2026, 12, 7))
        assert page.from_date.text() == "07.12.2026"
    finally:
        QLocale.setDefault(old)


def _actions(vault) -> list[str]:
    return [e.action for e in vault.history(limit=20)]


def test_preview_logged_only_when_something_was_shown(window, services):
    vault, _ = make_vault(services)
    vault.add_bytes("/", "notes.txt", b"hello")
    vault.add_bytes("/", "blob.bin", bytes(range(256)) * 4)
    window.open_session(vault)
    fp = window.files_page
    fp.select_names("blob.bin")
    fp.preview_selected()
    assert window.previews and window.previews[-1].kind == "none"
    assert "file-previewed" not in _actions(vault)
    fp.select_names("notes.txt")
    fp.preview_selected()
    assert window.previews[-1].kind == "text"
    previewed = [e for e in vault.history(limit=20) if e.action == "file-previewed"]
    assert [e.item_name for e in previewed] == ["/notes.txt"]


# ---- item 11: plurals, glued sentences, translations ---------------------------------------


def test_no_file_s_anywhere_in_the_app():
    """Plurals go through tr(..., n), never "file(s)" / "copy(ies)" in a text."""
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        with path.open("rb") as f:
            for tok in tokenize.tokenize(f.readline):
                if tok.type == tokenize.STRING and re.search(r"\w\((s|es|ies)\)", tok.string):
                    offenders.append(f"{path.relative_to(ROOT)}:{tok.start[0]}: {tok.string}")
    assert not offenders, "\n".join(offenders)


def test_plurals_through_the_translator(qapp):
    from strongroom.gui.i18n import SourcePlurals

    translator = SourcePlurals()
    qapp.installTranslator(translator)
    try:
        obj = QObject()
        assert obj.tr("Deleted %n items.", "one: Deleted %n item.", 1) == "Deleted 1 item."
        assert obj.tr("Deleted %n items.", "one: Deleted %n item.", 3) == "Deleted 3 items."
        assert QCoreApplication.translate("X", "plain") == "plain"
    finally:
        qapp.removeTranslator(translator)


@pytest.mark.parametrize("page_name", ["ContactsPage", "GroupsPage", "SharedPage"])
def test_sharing_page_heading_is_translated_in_its_own_context(qapp, services, page_name):
    """A sharing page's title and subtitle (class attributes read by `_Page`) reach the
    screen through the translator, in the context named after the page's class."""
    from PySide6.QtCore import QTranslator
    from PySide6.QtWidgets import QLabel

    from strongroom.gui import sharing

    page_class = getattr(sharing, page_name)

    class Marking(QTranslator):
        def translate(self, context, source, disambiguation=None, n=-1):
            return f"[{source}]" if context == page_name else None

    translator = Marking()
    qapp.installTranslator(translator)
    try:
        page = page_class(services)
        shown = {label.text() for label in page.findChildren(QLabel)}
    finally:
        qapp.removeTranslator(translator)
    assert {f"[{page_class.TITLE}]", f"[{page_class.SUBTITLE}]"} <= shown


def test_translators_load_at_start_up(qapp, tmp_path):
    """A translation dropped into resources/translations/ is loaded for the locale."""
    from strongroom.gui import app as gui_app
    from strongroom.gui.i18n import SourcePlurals, install_translators

    ts = tmp_path / "strongroom_de.ts"
    ts.write_text(
        '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE TS><TS version="2.1" language="de">'
        "<context><name>Probe</name><message><source>Lock</source>"
        "<translation>Sperren</translation></message></context></TS>",
        encoding="utf-8",
    )
    lrelease = Path(sys.executable).parent / "pyside6-lrelease"
    if not lrelease.exists():  # pragma: no cover - the venv ships it
        pytest.skip("pyside6-lrelease is not installed")
    import subprocess

    subprocess.run([str(lrelease), str(ts)], check=True, capture_output=True)
    installed = install_translators(qapp, QLocale("de_DE"), tmp_path)
    try:
        assert any(isinstance(t, SourcePlurals) for t in installed)
        assert QCoreApplication.translate("Probe", "Lock") == "Sperren"
    finally:
        for t in installed:
            qapp.removeTranslator(t)
    gui_app.create_app()  # the start-up path installs them too, once
    assert gui_app._TRANSLATORS
    assert QObject().tr("%n files", "one: %n file", 1) == "1 file"


def test_translation_template_has_every_text_of_the_gui(tmp_path):
    """The shipped template is current: every text the GUI's sources mark for translation
    is in it, and it keeps no text the sources lost (packaging/update-translations.sh
    regenerates it; it had fallen 178 texts behind before this test)."""
    import re
    import shutil
    import subprocess
    import sys

    lupdate = Path(sys.executable).parent / "pyside6-lupdate"
    if not lupdate.exists():
        lupdate = Path(shutil.which("pyside6-lupdate") or "pyside6-lupdate")
    gui = ROOT / "app" / "strongroom" / "gui"
    sources = sorted(str(p) for p in [*gui.glob("*.py"), *gui.glob("*/*.py")])
    fresh = tmp_path / "fresh.ts"
    subprocess.run(
        [str(lupdate), *sources, "-no-obsolete", "-ts", str(fresh)],
        check=True,
        capture_output=True,
    )

    def texts(path: Path) -> set[str]:
        return set(re.findall(r"<source>(.*?)</source>", path.read_text(encoding="utf-8"), re.S))

    shipped = texts(ROOT / "resources" / "translations" / "strongroom.ts")
    missing, stale = texts(fresh) - shipped, shipped - texts(fresh)
    assert not missing and not stale, (
        f"run packaging/update-translations.sh: {len(missing)} texts missing, {len(stale)} "
        f"stale, e.g. {sorted(missing or stale)[:3]}"
    )


def test_translation_template_is_shipped():
    ts = ROOT / "resources" / "translations" / "strongroom.ts"
    text = ts.read_text(encoding="utf-8")
    assert "<TS" in text and "Shared with {who}, no receipts asked." in text
    assert 'numerus="yes"' in text


@pytest.mark.parametrize(
    ("language", "country", "pattern"),
    [
        (QLocale.Language.German, QLocale.Country.Germany, r"^07\.12\.2026 \d\d:\d\d$"),
        (
            QLocale.Language.English,
            QLocale.Country.UnitedStates,
            r"^12/7/2026 \d{1,2}:\d\d\s?[AP]M$",
        ),
    ],
)
def test_times_use_the_locale(qapp, language, country, pattern):
    """Dates and times in lists and details read the locale's way (order, separators)."""
    from strongroom.gui.formatting import format_time

    old = QLocale()
    QLocale.setDefault(QLocale(language, country))
    try:
        text = format_time(datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    finally:
        QLocale.setDefault(old)
    assert re.match(pattern, text.replace("\u202f", " ")), text
