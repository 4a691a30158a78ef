"""Issue 12 item 8: a share dropped on My files is received, not added as a file; a plain
`.age` file (or a share for someone else) is still added; mixed drops do both."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault


def _drop(widget: QWidget, paths: list[Path]) -> bool:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def _people(services, tmp_path):
    """Ann and Ben know each other; Cy knows Ben, Ben does not know Cy. Ann made a share
    for Ben and one for Cy; Cy made one for Ben."""
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    cy, _ = make_vault(services, "Cy", display_name="Cy")
    ann.add_contact(ben.my_card().to_text())
    ann.add_contact(cy.my_card().to_text())
    ben.add_contact(ann.my_card().to_text())
    cy.add_contact(ben.my_card().to_text())
    out = {n: tmp_path / n for n in ("for_ben", "for_cy", "from_cy")}
    for d in out.values():
        d.mkdir()
    ann.add_bytes("/", "note.txt", b"for ben")
    [for_ben] = ann.share(["/note.txt"], to=["Ben"], out_dir=out["for_ben"])
    [for_cy] = ann.share(["/note.txt"], to=["Cy"], out_dir=out["for_cy"])
    cy.add_bytes("/", "hello.txt", b"from a stranger")
    [from_cy] = cy.share(["/hello.txt"], to=["Ben"], out_dir=out["from_cy"])
    ann.lock()
    cy.lock()
    return ben, for_ben.path, for_cy.path, from_cy.path


def _names(window) -> list[str]:
    return sorted(i.name for i in window.files_page.model.items())


def test_a_share_dropped_on_the_file_table_is_received_and_the_rest_added(
    window, services, tmp_path
):
    ben, for_ben, for_cy, _from_cy = _people(services, tmp_path)
    ben.add_bytes("/", "existing.txt", b"x")
    window.open_session(ben)
    page = window.files_page
    assert page.center.currentWidget() is page.table
    keep = tmp_path / "keep.age"  # a plain age file someone wants to keep
    keep.write_bytes(b"age-encryption.org/v1\n-> X25519 abc\nnot really\n")
    plain = tmp_path / "plain.txt"
    plain.write_text("plain")
    assert _drop(page.table.viewport(), [for_ben, keep, plain, for_cy])
    # the share for me is received, not added as a file
    assert window.shared_page.model.rowCount() == 1
    assert _names(window) == sorted(["existing.txt", "keep.age", "plain.txt", for_cy.name])
    status = window.status_label.text()
    assert "Added and encrypted 3 items." in status, status
    assert "1 dropped file is a share for you" in status, status


def test_a_share_alone_dropped_on_the_empty_folder_is_received(window, services, tmp_path):
    ben, for_ben, _for_cy, _from_cy = _people(services, tmp_path)
    window.open_session(ben)
    page = window.files_page
    assert page.center.currentWidget() is page.empty
    assert _drop(page.empty, [for_ben])
    assert _names(window) == []
    assert window.sections.currentWidget() is window.shared_page
    assert window.shared_page.model.rowCount() == 1


def test_a_share_from_a_stranger_dropped_on_the_table_waits_for_you(window, services, tmp_path):
    ben, _for_ben, _for_cy, from_cy = _people(services, tmp_path)
    ben.add_bytes("/", "existing.txt", b"x")
    window.open_session(ben)
    page = window.files_page
    assert _drop(page.table.viewport(), [from_cy])
    assert _names(window) == ["existing.txt"]
    assert "Waiting for you" in window.status_label.text()
    assert len(ben.pending_shares()) == 1


def test_vault_tells_a_share_for_me_from_other_age_files(services, tmp_path):
    ben, for_ben, for_cy, from_cy = _people(services, tmp_path)
    keep = tmp_path / "keep.age"
    keep.write_bytes(b"age-encryption.org/v1\nnot a header\n")
    assert ben.is_share_for_me(for_ben)
    assert ben.is_share_for_me(from_cy)  # a stranger's share is still a share for me
    assert not ben.is_share_for_me(for_cy)
    assert not ben.is_share_for_me(keep)
    assert not ben.is_share_for_me(tmp_path)  # a folder
    assert not ben.is_share_for_me(tmp_path / "missing.age")
    fifo = tmp_path / "pipe.age"
    os.mkfifo(fifo)
    assert not ben.is_share_for_me(fifo)  # not opened for a blocking read
