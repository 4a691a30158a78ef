"""How the GUI renders the vault's `UnlockReport`: routine notices in the status bar; when
any notice is a warning, every notice also in one dialog, "Since you last opened this vault"."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from strongroom.vault import UnlockReport

__all__ = ["unlock_report_texts"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("UnlockReport", text)


# Front-end hints for kinds the GUI can act on; every other notice is shown as it is.
_HINTS = {
    "rollback": "If you restored a backup on purpose, accept it under Activity › Verify integrity.",
}


def unlock_report_texts(report: UnlockReport) -> tuple[str, str]:
    """(status line, dialog text) for `report`; the dialog text is empty unless a notice is
    a warning. Every notice's text appears in one of them."""
    texts = [
        f"{n.text} {_tr(_HINTS[n.kind])}" if n.kind in _HINTS else n.text for n in report.notices
    ]
    if not texts:
        return "", ""
    if report.warnings:
        return texts[report.notices.index(report.warnings[0])], "\n\n".join(texts)
    return " ".join(texts), ""
