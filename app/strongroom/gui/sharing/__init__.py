"""Sharing screens: Contacts, Groups, Shared with me, the share dialog and revocation.

Everything here talks to the vault's sharing verbs through `run_task`; the vault announces
changes with `sharing-changed`, which `VaultSession` re-emits as `sharing_changed` on the GUI
thread, and each page reloads itself.

| module | owns |
| --- | --- |
| `common` | trust shields and labels, QR codes, the table and page frames |
| `models` | `ContactsTableModel`, `ReceivedTableModel`, `PendingSharesTableModel` |
| `share_dialog` | `ShareDialog`, rendering the vault's `SharePlan` |
| `access_panel` | `AccessPanel` (who has access), `RevokeDialog`, revocation helpers |
| `send_update` | `SendUpdateDialog`, `send_new_version`: the new version to everyone with access |
| `contacts_page` | `ContactsPage`, `AddContactDialog`, `VerifyContactDialog` |
| `shared_page` | `SharedPage` (Shared with me, Waiting for you), receiving, the exchange sync |
| `groups_page` | `GroupsPage` |
"""

from .access_panel import AccessPanel, RevokeDialog
from .common import TRUST_COLORS, TRUST_LABELS, qr_pixmap, qr_png, trust_icon
from .contacts_page import AddContactDialog, ContactsPage, VerifyContactDialog
from .groups_page import GroupsPage
from .models import ContactsTableModel, PendingSharesTableModel, ReceivedTableModel
from .share_dialog import ShareDialog
from .shared_page import SharedPage, looks_like_share, receive_or_apply

__all__ = [
    "TRUST_COLORS",
    "TRUST_LABELS",
    "AccessPanel",
    "AddContactDialog",
    "ContactsPage",
    "ContactsTableModel",
    "GroupsPage",
    "PendingSharesTableModel",
    "ReceivedTableModel",
    "RevokeDialog",
    "ShareDialog",
    "SharedPage",
    "VerifyContactDialog",
    "looks_like_share",
    "qr_pixmap",
    "qr_png",
    "receive_or_apply",
    "trust_icon",
]
