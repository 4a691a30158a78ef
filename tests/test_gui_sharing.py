"""Sharing in the GUI: contacts add/verify, the share dialog, receiving in a second vault,
Who has access with revoke, groups."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault

SECRET = b"the plans, in plain text\n"


@pytest.fixture
def two(window, services, tmp_path):
    """Ann's vault open in the window; Ben's vault open through the API; a shared
    exchange folder; Ben knows and verified Ann."""
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben.set_exchange_folder(exchange)
    ben.add_contact(ann.my_card().to_text())
    ben.verify_contact("Ann")
    window.open_session(ann)
    yield window, ann, ben, exchange
    ben.lock()


def _ann_shares_a_note_with_ben(services, tmp_path):
    """Two open vaults; Ann knows Ben (Ben does not know Ann) and saved a share of
    /note.txt for him into a folder. Returns (ann, ben, share record)."""
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    ann.add_contact(ben.my_card().to_text())
    ann.add_bytes("/", "note.txt", SECRET)
    out = tmp_path / "out"
    out.mkdir()
    [share] = ann.share(["/note.txt"], to=["Ben"], out_dir=out)
    return ann, ben, share


def _add_ben(window, services, ben, verify=True):
    cp = window.contacts_page
    services.dialogs.expect(
        "exec_dialog", lambda d: (d.card_edit.setPlainText(ben.my_card().to_text()), True)[1]
    )
    cp.add_button.click()
    if verify:
        cp.select_name("Ben")
        services.dialogs.expect("exec_dialog", lambda d: (d.match_check.setChecked(True), True)[1])
        cp.verify_button.click()


def test_contacts_add_and_verify(two, services):
    window, ann, ben, _ = two
    window.show_section(window.SECTION_CONTACTS)
    cp = window.contacts_page
    assert cp.fingerprint_label.text() == ann.my_fingerprint()
    assert not cp.qr.pixmap().isNull()
    _add_ben(window, services, ben, verify=False)
    contacts = cp.model.records()
    assert [c.name for c in contacts] == ["Ben"] and not contacts[0].verified
    cp.select_name("Ben")

    def compare(dialog):
        texts = [w.text() for w in dialog.findChildren(type(cp.fingerprint_label))]
        joined = " ".join(t.replace("\n", " ") for t in texts)
        assert ben.my_fingerprint() in joined and ann.my_fingerprint() in joined
        assert not dialog.buttons.buttons()[0].isEnabled()
        dialog.match_check.setChecked(True)
        return True

    services.dialogs.expect("exec_dialog", compare)
    cp.verify_button.click()
    assert cp.model.records()[0].verified
    services.dialogs.expect("get_text", "Benjamin")
    cp.rename_button.click()
    assert cp.model.records()[0].name == "Benjamin"


def test_share_receive_and_revoke_through_the_exchange(two, services, tmp_path):
    window, ann, ben, exchange = two
    services.dialogs.expect("choose_directory", str(exchange))
    window.settings_page.exchange_button.click()
    assert ann.exchange_folder == exchange
    _add_ben(window, services, ben)
    src = tmp_path / "plans.txt"
    src.write_bytes(SECRET)
    fp = window.files_page
    fp.add_paths([str(src)])
    fp.select_names("plans.txt")

    def share(dialog):
        assert dialog.via_exchange.isChecked()
        dialog.check("Ben")
        dialog.receipts.setChecked(True)
        summary = dialog.summary.text()
        assert "Ben will be able to read 1 file until" in summary
        assert "cannot erase a copy" in summary
        assert dialog.warning.isHidden()  # Ben is verified
        return True

    services.dialogs.expect("exec_dialog", share)
    fp.act_share.trigger()
    assert "Ben" in fp.details.access.revoke_buttons
    access_col = fp.model.index(fp.model.row_of(fp.selected_items()[0].id), fp.model.COL_ACCESS)
    assert fp.model.data(access_col) == "Ben"

    report = ben.sync()
    assert len(report.received) == 1
    received = ben.shared_with_me()[0]
    assert received.trust == "verified" and received.sender_name == "Ann"
    assert ben.read_bytes(received.path) == SECRET

    def revoke(dialog):
        assert "cannot erase a copy" in dialog.text.text()
        assert "exchange folder" in dialog.note.text()
        note = dialog.note.text()
        assert "removes the share file" in note and "cannot remove a copy" in note
        return True

    services.dialogs.expect("exec_dialog", revoke)
    fp.details.access.revoke_buttons["Ben"].click()
    assert "Ben" not in fp.details.access.revoke_buttons
    assert fp.model.data(access_col) == "Only you"
    assert not Path(ann.shares()[0].delivered_to).exists()  # the share file went
    ben.sync()
    assert ben.shared_with_me(include_ended=True)[0].status == "revoked"


def test_receiving_in_the_gui_from_a_share_file(window, services, tmp_path):
    ann, ben, share = _ann_shares_a_note_with_ben(services, tmp_path)
    ann.lock()
    window.open_session(ben)
    window.show_section(window.SECTION_SHARED)
    page = window.shared_page
    assert page.model.rowCount() == 0
    services.dialogs.expect("choose_files", [str(share.path)])
    page.receive_button.click()
    # Ben never added Ann: the file waits for his decision (schema 5), then he accepts it.
    assert page.model.rowCount() == 0 and page.waiting_model.rowCount() == 1
    assert "Waiting for you" in page.message.text()
    page.accept_button.click()
    assert page.waiting_model.rowCount() == 0
    assert page.model.rowCount() == 1
    record = page.model.record(0)
    assert record.trust == "unknown"  # Ben never added Ann
    assert "Unknown sender" in page.model.data(page.model.index(0, page.model.COL_TRUST))
    page.table.selectRow(0)
    page.preview_button.click()
    assert window.previews and window.previews[-1].view.toPlainText() == SECRET.decode()


def test_groups_create_add_and_remove_member(two, services):
    window, _ann, ben, _ = two
    _add_ben(window, services, ben)
    window.show_section(window.SECTION_GROUPS)
    gp = window.groups_page
    services.dialogs.expect("get_text", "Family")
    gp.create_button.click()
    assert [g.name for g in gp.groups] == ["Family"]
    services.dialogs.expect("choose_item", "Ben")
    gp.add_member_button.click()
    assert [m.name for m in gp.current().members] == ["Ben"]
    services.dialogs.expect("choose_item", "Ben")
    services.dialogs.expect("confirm", True)
    gp.remove_member_button.click()
    text = [args for method, args in services.dialogs.asked if method == "confirm"][-1][1]
    assert "new key" in text
    assert gp.current().members == () and gp.current().epoch == 2


def test_unverified_recipient_is_warned_in_share_dialog(two, services, tmp_path):
    window, ann, ben, _ = two
    _add_ben(window, services, ben, verify=False)
    ann.add_bytes("/", "x.txt", b"x")
    window.files_page.refresh()
    window.files_page.select_names("x.txt")
    out = tmp_path / "out"
    out.mkdir()
    services.dialogs.expect("choose_directory", str(out))

    def share(dialog):
        dialog.check("Ben")
        assert not dialog.warning.isHidden() and "Not verified: Ben" in dialog.warning.text()
        dialog.via_file.setChecked(True)
        dialog._accept()
        return dialog.out_dir == str(out)

    services.dialogs.expect("exec_dialog", share)
    window.files_page.act_share.trigger()
    assert len(list(Path(out).iterdir())) == 1


def test_receipts_asked_for_are_answered_from_shared_with_me(window, services, tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    for v in (ann, ben):
        v.set_exchange_folder(exchange)
    ann.add_contact(ben.my_card().to_text())
    ben.add_contact(ann.my_card().to_text())
    ann.add_bytes("/", "report.txt", SECRET)
    ann.share(["/report.txt"], to=["Ben"], receipts=True)
    window.open_session(ben)  # Shared with me checks the exchange folder at unlock
    window.show_section(window.SECTION_SHARED)
    page = window.shared_page
    assert page.model.rowCount() == 1
    page.table.selectRow(0)
    page.preview_button.click()  # opening it is what the sender asked to hear about
    page.reload()
    assert not page.receipts_banner.isHidden()
    assert "Ann asked to be told" in page.receipts_label.text()
    page.send_receipts_button.click()
    assert page.receipts_banner.isHidden()
    window.lock()
    ann.sync()
    [share] = ann.shares()
    events = {r.event for r in share.recipients[0].receipts}
    assert "opened" in events or "received" in events
    ann.lock()


def test_share_file_opened_from_the_desktop_waits_for_unlock(window, services, tmp_path):
    ann, ben, share = _ann_shares_a_note_with_ben(services, tmp_path)
    ann.lock()
    window.receive_share_file(share.path)  # `strongroom note.txt.age` before any unlock
    assert "Unlock a vault" in window.status_label.text()
    window.open_session(ben)
    assert window.sections.currentWidget() is window.shared_page
    # Ben never added Ann: it waits for his decision (schema 5), and the status says so.
    assert window.shared_page.waiting_model.rowCount() == 1
    assert "Waiting for you" in window.status_label.text()
    assert window.pending_shares == []
    window.shared_page.accept_button.click()
    assert window.shared_page.model.rowCount() == 1


def test_receiving_a_revocation_file_applies_it_and_says_so(window, services, tmp_path):
    ann, ben, share = _ann_shares_a_note_with_ben(services, tmp_path)
    ben.add_contact(ann.my_card().to_text())
    revocation = ann.revoke(share.id, out_dir=share.path.parent).messages[0]
    ann.lock()
    window.open_session(ben)
    window.show_section(window.SECTION_SHARED)
    page = window.shared_page
    services.dialogs.expect("choose_files", [str(share.path)])
    page.receive_button.click()
    assert page.model.rowCount() == 1
    # The revocation is a message, not a share: the vault applies it, the GUI says so in
    # plain words instead of reporting an error.
    services.dialogs.expect("choose_files", [str(revocation)])
    page.receive_button.click()
    assert "not a shared file" in page.message.text()
    assert page.message.kind == "info"  # applied: information, not an error
    record = page.model.record(0)  # still listed, as revoked and erased
    assert record.status == "revoked" and record.path is None
    assert ben.shared_with_me(include_ended=True)[0].status == "revoked"


def test_sync_summary_names_conflict_copies(two, services):
    window, ann, ben, exchange = two
    ann.set_exchange_folder(exchange)
    ann.add_contact(ben.my_card().to_text())  # from a stranger it would wait (schema 5)
    ben.add_bytes("/", "c.txt", SECRET)
    [share] = ben.share(["/c.txt"], to=["Ann"])
    stem = share.path.name.removesuffix(".age")
    share.path.rename(exchange / f"{stem}.sync-conflict-20261207-013005-ABCDEF7.age")
    window.show_section(window.SECTION_SHARED)
    page = window.shared_page
    page.sync_button.click()
    assert page.model.rowCount() == 1
    assert "1 new file." in page.message.text()
    assert "1 sync conflict copy processed" in page.message.text()


def test_sync_summary_says_a_file_was_updated_and_what_access_ended(two, services):
    """Issue 15: a sync that brings a new version of a file shared with me says so (the
    earlier one is kept), and one that erases a file because its sender revoked it says
    that too — before, Check now said "0 new files." for both."""
    window, ann, ben, exchange = two
    ann.set_exchange_folder(exchange)
    ann.add_contact(ben.my_card().to_text())
    doc = ben.add_bytes("/", "c.txt", SECRET)
    other = ben.add_bytes("/", "d.txt", SECRET)
    ben.share([doc.id], to=["Ann"])
    (second,) = ben.share([other.id], to=["Ann"])
    window.show_section(window.SECTION_SHARED)
    page = window.shared_page
    page.sync_button.click()
    assert "2 new files." in page.message.text()
    ben.store_version(doc.id, io.BytesIO(b"the second version\n"))
    ben.send_update(ben.plan_send_update(doc.id))
    ben.revoke(second.id, ["Ann"])
    page.sync_button.click()
    text = page.message.text()
    assert "new files" not in text, text
    assert "c.txt has a new version from Ben (the earlier one is kept)." in text, text
    assert "d.txt was erased here: Ben revoked it." in text, text


def test_send_the_new_version_to_everyone_who_has_access(two, services, tmp_path):
    # Issue 15: the access panel's "Send the new version…" shows the vault's plan (who
    # gets it, who does not and why) and sends only after the person agrees.
    window, ann, ben, exchange = two
    ann.set_exchange_folder(exchange)
    ann.add_contact(ben.my_card().to_text())
    cy, _ = make_vault(services, "Cy", display_name="Cy")
    ann.add_contact(cy.my_card().to_text())
    doc = ann.add_bytes("/", "plans.txt", SECRET)
    (share,) = ann.share([doc], to=["Ben", "Cy"])
    ben.sync()
    ann.revoke(share.id, ["Cy"])
    ann.store_version(doc.id, io.BytesIO(b"the plans, version two\n"))
    fp = window.files_page
    fp.refresh()
    fp.select_names("plans.txt")
    panel = fp.details.access
    assert panel.update_button is not None

    def cancel(dialog):
        assert "Version 2 of /plans.txt goes to Ben." in dialog.summary.text()
        assert "Not to Cy: access revoked" in dialog.skipped.text()
        assert dialog.send_button.isEnabled()
        return False

    services.dialogs.expect("exec_dialog", cancel)
    panel.update_button.click()
    assert ann.history(actions=["share-update-sent"]) == []  # cancelled: nothing sent

    services.dialogs.expect("exec_dialog", lambda _d: True)
    services.dialogs.expect("inform", None)
    panel.update_button.click()
    assert [e.details["to"] for e in ann.history(actions=["share-update-sent"])] == ["Ben"]
    informed = [a for m, a in services.dialogs.asked if m == "inform"]
    assert "Version 2 was sent to Ben." in informed[-1][1]
    assert ben.sync().updated
    assert ben.read_bytes(share.id) == b"the plans, version two\n"
    cy.lock()
