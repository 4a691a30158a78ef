""" "Shared with me" → "Waiting for you" (issue 13): shares from senders not in my contacts
wait for my decision; Accept receives, Refuse (after a confirmation) drops for good. The
sender is shown as "Unknown sender (fingerprint …)"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault

SECRET = b"from a stranger\n"


@pytest.fixture
def ben_waits(window, services, tmp_path):
    """Ann (not in Ben's contacts) shared /note.txt with Ben through the exchange folder;
    Ben's vault is open in the window, on "Shared with me"."""
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    ann.set_exchange_folder(exchange)
    ben.set_exchange_folder(exchange)
    ann.add_contact(ben.my_card().to_text())
    ann.add_bytes("/", "note.txt", SECRET)
    ann.share("/note.txt", to=["Ben"])
    window.open_session(ben)
    window.show_section(window.SECTION_SHARED)
    yield window, ann, ben
    ann.lock()


def test_empty_waiting_section(window, services) -> None:
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    window.open_session(ben)
    window.show_section(window.SECTION_SHARED)
    page = window.shared_page
    assert page.waiting_model.rowCount() == 0
    assert not page.waiting_empty.isHidden() and "Nothing is waiting" in page.waiting_empty.text()
    assert page.accept_button.isHidden() and page.refuse_button.isHidden()


def test_waiting_share_shown_by_fingerprint_then_accepted(ben_waits, services) -> None:
    window, ann, ben = ben_waits
    page = window.shared_page
    page.sync(quiet=False)
    assert page.waiting_model.rowCount() == 1  # before: received on its own, no such list
    assert page.model.rowCount() == 0
    assert "waiting for you" in page.message.text()
    m = page.waiting_model
    who = m.data(m.index(0, m.COL_FROM))
    assert who == f"Unknown sender (fingerprint {ann.my_fingerprint()})"
    assert m.data(m.index(0, m.COL_NAME)) == "note.txt"
    assert "Ann" in m.data(m.index(0, m.COL_FROM), 3)  # tooltip: the claimed name
    assert not page.waiting_text.isHidden() and page.accept_button.isEnabled()
    page.add_contact_check.setChecked(True)
    services.dialogs.expect("get_text", "Ann (work)")
    page.accept_button.click()
    assert page.waiting_model.rowCount() == 0 and not page.waiting_empty.isHidden()
    assert page.model.rowCount() == 1
    rec = page.model.record(0)
    assert (rec.sender_name, rec.trust) == ("Ann (work)", "unverified")
    assert ben.read_bytes(rec.path) == SECRET
    assert [c.name for c in ben.contacts()] == ["Ann (work)"]


def test_refuse_asks_first_and_is_final(ben_waits, services) -> None:
    window, _ann, ben = ben_waits
    page = window.shared_page
    page.sync(quiet=True)
    assert page.waiting_model.rowCount() == 1
    services.dialogs.expect("confirm", False)  # "Cancel": nothing happens
    page.refuse_button.click()
    assert page.waiting_model.rowCount() == 1
    _title, text = services.dialogs.asked[-1][1]
    assert "not be offered again" in text and "fingerprint" in text
    services.dialogs.expect("confirm", True)
    page.refuse_button.click()
    assert page.waiting_model.rowCount() == 0
    assert "Refused" in page.message.text()
    assert ben.shared_with_me() == [] and ben.pending_shares() == []
    page.sync(quiet=False)
    assert page.waiting_model.rowCount() == 0 and page.model.rowCount() == 0


def test_screenshot_of_the_waiting_section(ben_waits, tmp_path) -> None:
    """A picture to look at (docs/screenshots/shared-with-me-waiting.png when
    STRONGROOM_SCREENSHOTS names a folder)."""
    window, _ann, _ben = ben_waits
    window.resize(1000, 640)
    page = window.shared_page
    page.sync(quiet=False)
    pixmap = window.grab()
    assert not pixmap.isNull() and pixmap.width() >= 800
    target = Path(os.environ.get("STRONGROOM_SCREENSHOTS", tmp_path))
    pixmap.save(str(target / "shared-with-me-waiting.png"))
