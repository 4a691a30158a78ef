"""How the GUI renders the vault's `UnlockReport`: routine notices in the status bar; when
any notice is a warning, every notice also in one dialog, "Since you last opened this vault"."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from strongroom.vault import NoticeKind, UnlockReport

__all__ = ["unlock_report_texts"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("UnlockReport", text)


# Front-end hints for kinds the GUI can act on; every other notice is shown as it is.
_HINTS = {
    "rollback": "If you restored a backup on purpose, accept it under Activity › Verify integrity.",
    "backup": "To make it your current vault, accept it under Activity › Verify integrity.",
}


def unlock_report_texts(report: UnlockReport, own_failures: int = 0) -> tuple[str, str]:
    """(status line, dialog text) for `report`; the dialog text is empty unless a notice is
    a warning. Every notice's text appears in one of them.

    `own_failures`: wrong passphrases or recovery keys typed in this window before this
    unlock. When they account for every failed attempt, nobody else tried: the notice is a
    routine line in the status bar, not a "Since you last opened this vault" dialog."""
    # Copies kept from an earlier session: the window offers them itself after the unlock.
    notices = [n for n in report.notices if n.kind != NoticeKind.COPIES_KEPT]
    texts = [f"{n.text} {_tr(_HINTS[n.kind])}" if n.kind in _HINTS else n.text for n in notices]
    warning = [n.level == "warning" for n in notices]
    for i, n in enumerate(notices):
        if n.kind != NoticeKind.FAILED_UNLOCKS or own_failures <= 0:
            continue
        count = n.details.get("count")
        if isinstance(count, int) and count <= own_failures:
            texts[i] = QCoreApplication.translate(
                "UnlockReport",
                "Unlocked after %n wrong attempts typed here.",
                "one: Unlocked after a wrong attempt typed here.",
                count,
            )
            warning[i] = False
        elif isinstance(count, int):
            texts[i] += " " + QCoreApplication.translate(
                "UnlockReport",
                "%n of them were typed in this window.",
                "one: %n of them was typed in this window.",
                own_failures,
            )
    if not texts:
        return "", ""
    if any(warning):
        return texts[warning.index(True)], "\n\n".join(texts)
    return " ".join(texts), ""
