"""The main window: welcome / create / unlock screens, and the open vault with its sidebar."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QSystemTrayIcon,
    QToolBar,
    QWidget,
)

from strongroom.vault import (
    FileRecord,
    HandledMessage,
    ShareFromUnknownSender,
    Vault,
)

from . import heap, icons
from .activity_page import ActivityPage
from .autolock import IdleWatcher
from .backup_action import BackupAction
from .changed_copies import DISCARD, SAVE, ChangedCopies
from .editing import EditingCopies
from .files import FilesPage, TrashPage, accept_copy, forget_file_icons
from .focus_ring import install_focus_ring
from .formatting import shown_name
from .notices import unlock_report_texts
from .preview import PreviewWindow
from .seams import Services
from .session import SessionController, VaultSession
from .settings_page import SettingsPage, apply_theme
from .sharing import ContactsPage, GroupsPage, SharedPage, looks_like_share, receive_or_apply
from .sidebar import Sidebar
from .start_pages import CreatePage, UnlockPage, WelcomePage, vault_folder_of
from .tasks import run_task, runner, say_error, warn_error
from .widgets import JobsArea

__all__ = ["MainWindow"]

log = logging.getLogger(__name__)


def _guarded(step: Callable[[], object]) -> None:
    """Run one step of locking; a failure is logged and does not stop the next steps."""
    try:
        step()
    except Exception:
        log.exception("a step of locking failed; locking goes on")


def _warm_up(_ctx: object) -> None:
    import segno  # noqa: F401  (the contact card's QR code)
    from zxcvbn import zxcvbn

    zxcvbn("warm up the matchers")  # first call builds its ranked dictionaries


class MainWindow(QMainWindow):
    """One window for everything; the central stack switches between the screens."""

    SECTION_FILES, SECTION_SHARED, SECTION_CONTACTS, SECTION_GROUPS = range(4)
    SECTION_ACTIVITY, SECTION_TRASH, SECTION_SETTINGS = 4, 5, 6

    vault_opened = Signal(object)
    vault_locked = Signal(str)

    def __init__(self, services: Services | None = None) -> None:
        super().__init__()
        self.services = services or Services()
        self.previews: list[PreviewWindow] = []
        self._shown_once = False
        self._retint_pending = False
        self.setWindowTitle(self.tr("Strongroom"))
        self.setWindowIcon(icons.app_icon())
        self.setAcceptDrops(True)
        self.resize(1200, 760)
        install_focus_ring()  # a clear outline around the focused control (focus_ring.py)

        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.welcome = WelcomePage(self.services)
        self.create_page = CreatePage(self.services)
        self.unlock_page = UnlockPage(self.services)
        self.vault_view = QWidget()
        for page in (self.welcome, self.create_page, self.unlock_page, self.vault_view):
            self.stack.addWidget(page)

        self._build_vault_view()

        self._make_actions()
        self.backup_action = BackupAction(self)  # Vault › Back up… (gui/backup_action.py)
        self._make_menus()
        self._make_toolbar()
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.timeout.connect(lambda: self.status_label.setText(""))
        self.status_label = QLabel()
        self.status_label.setAccessibleName(self.tr("Status"))
        self.statusBar().addWidget(self.status_label, 1)
        self.jobs = JobsArea(runner())
        self.statusBar().addPermanentWidget(self.jobs)
        self.jobs.message.connect(self.show_status)

        self._make_idle()

        self.copies = ChangedCopies(self, self.services, lambda: self.session)
        self.copies.status.connect(self.show_status)
        self.editing = EditingCopies(self)
        self._connect_pages()

        self.tray: QSystemTrayIcon | None = None
        if self.services.use_tray and QSystemTrayIcon.isSystemTrayAvailable():
            self._make_tray()
        self.show_welcome()
        # Heavy pure-Python imports (zxcvbn's word lists, segno) happen once, on a worker,
        # while the welcome screen idles: imported later on demand they stalled the GUI
        # thread for 50-80 ms (GIL and import lock) right when the person typed or unlocked.
        QTimer.singleShot(200, lambda: run_task(_warm_up, quiet=True))

    def _build_vault_view(self) -> None:
        """The open vault's view: the sidebar, the pages, and the controller of their session."""
        # vault view: sidebar + sections
        self.sidebar = Sidebar()
        self.sections = QStackedWidget()
        self.files_page = FilesPage(self.services)
        self.shared_page = SharedPage(self.services)
        self.contacts_page = ContactsPage(self.services)
        self.groups_page = GroupsPage(self.services)
        self.activity_page = ActivityPage(self.services)
        self.trash_page = TrashPage(self.services)
        self.settings_page = SettingsPage(self.services)
        # Open and lock, lazy pages, share files waiting for an unlock, the sync schedule.
        self.controller = SessionController(self._session_pages(), self.shared_page, self)
        self.controller.opened.connect(self._watch_session)
        self.controller.pages_loaded.connect(
            lambda: QTimer.singleShot(self._SETTLE_DELAY_MS, heap.settle)
        )
        self.controller.sync_due.connect(lambda: self.shared_page.sync(quiet=True))
        entries = [
            ("my-files", self.tr("My files"), self.files_page),
            ("inbox", self.tr("Shared with me"), self.shared_page),
            ("contacts", self.tr("Contacts"), self.contacts_page),
            ("group", self.tr("Groups"), self.groups_page),
            ("activity", self.tr("Activity"), self.activity_page),
            ("delete", self.tr("Trash"), self.trash_page),
            ("settings", self.tr("Settings"), self.settings_page),
        ]
        for icon_name, label, page in entries:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, icon_name)
            item.setSizeHint(QSize(180, 36))
            self.sidebar.addItem(item)
            self.sections.addWidget(page)
        self.sidebar.retint()
        self.sidebar.currentRowChanged.connect(self.controller.load_now)
        self.sidebar.currentRowChanged.connect(self.sections.setCurrentIndex)
        self.sidebar.currentRowChanged.connect(lambda _r: self._update_toolbar())
        row = QHBoxLayout(self.vault_view)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(self.sections, 1)

    def _make_idle(self) -> None:
        """Auto-lock: the idle watcher, following the settings."""
        self.idle = IdleWatcher(self.services.clock, self.services.idle_check_ms, self)
        self.idle.idle.connect(lambda: self.lock(self.tr("Locked after a period of inactivity.")))
        self.idle.system_lock.connect(
            lambda _r: self.lock(self.tr("Locked because the computer slept or locked."))
        )
        self.settings_page.autolock_changed.connect(self._apply_autolock)
        self.settings_page.theme_changed.connect(self._theme_changed)
        self.activity_page.retention_changed.connect(self.settings_page.set_retention_value)
        self._apply_autolock()

    def _connect_pages(self) -> None:
        """The start pages lead to each other and to the open vault; the pages' signals."""
        self.welcome.create_requested.connect(self.show_create)
        self.welcome.open_requested.connect(self.show_unlock)
        self.create_page.cancelled.connect(self.show_welcome)
        self.create_page.created.connect(self.open_session)
        self.unlock_page.unlocked.connect(self.open_session)
        self.unlock_page.back.connect(self.show_welcome)
        for page in self._session_pages():
            page.status.connect(self.show_status)
        self.shared_page.received_new.connect(self._received_new)
        self.shared_page.preview_requested.connect(self._preview_received)
        self.shared_page.export_requested.connect(self._export_received)
        self.shared_page.open_requested.connect(self._open_received)
        self.files_page.preview_ready.connect(self.show_preview)
        self.files_page.shares_dropped.connect(self._receive_dropped_shares)

    # ---- actions, menus, toolbar -------------------------------------------------------
    def _make_actions(self) -> None:
        S = QKeySequence.StandardKey
        self.act_new_vault = QAction(icons.icon("add-folder"), self.tr("New vault…"), self)
        self.act_new_vault.setShortcuts(S.New)
        self.act_new_vault.triggered.connect(self.show_create)
        self.act_open_vault = QAction(icons.icon("vault-open"), self.tr("Open vault…"), self)
        self.act_open_vault.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.act_open_vault.triggered.connect(self._open_vault_dialog)
        self.act_lock = QAction(icons.icon("lock"), self.tr("Lock"), self)
        self.act_lock.setShortcut(QKeySequence("Ctrl+L"))
        self.act_lock.setToolTip(self.tr("Lock the vault (Ctrl+L)"))
        self.act_lock.triggered.connect(lambda: self.request_lock())
        self.act_quit = QAction(self.tr("Quit"), self)
        self.act_quit.setShortcuts(S.Quit)
        self.act_quit.triggered.connect(self.quit)
        for act, name in (
            (self.act_new_vault, "add-folder"),
            (self.act_open_vault, "vault-open"),
            (self.act_lock, "lock"),
        ):
            act.setProperty(icons.ICON_PROPERTY, name)
        for act in (self.act_new_vault, self.act_open_vault, self.act_lock, self.act_quit):
            self.addAction(act)
        # Ctrl+1 ... Ctrl+7: the sidebar's sections, in order.
        self.section_actions: list[QAction] = []
        for row in range(self.sidebar.count()):
            act = QAction(self.sidebar.item(row).text(), self)
            act.setShortcut(QKeySequence(f"Ctrl+{row + 1}"))
            act.triggered.connect(lambda _c=False, r=row: self._go_to_section(r))
            self.sidebar.item(row).setToolTip(
                self.tr("{name} (Ctrl+{n})").format(name=self.sidebar.item(row).text(), n=row + 1)
            )
            self.addAction(act)
            self.section_actions.append(act)

    def _make_menus(self) -> None:
        fp = self.files_page
        bar = self.menuBar()
        m = bar.addMenu(self.tr("&Vault"))
        for act in (
            self.act_new_vault,
            self.act_open_vault,
            None,
            self.backup_action.action,
            self.act_lock,
            None,
            self.act_quit,
        ):
            m.addSeparator() if act is None else m.addAction(act)
        m = bar.addMenu(self.tr("&File"))
        for act in (
            fp.act_add_files,
            fp.act_add_folder,
            fp.act_new_folder,
            None,
            fp.act_open,
            fp.act_open_external,
            fp.act_export,
            fp.act_share,
            None,
            fp.act_rename,
            fp.act_move,
            fp.act_delete,
            fp.act_erase,
        ):
            m.addSeparator() if act is None else m.addAction(act)
        m = bar.addMenu(self.tr("&Edit"))
        for act in (fp.act_undo_delete, fp.act_select_all, fp.act_find):
            m.addAction(act)
        m = bar.addMenu(self.tr("&View"))
        for act in (fp.act_refresh, fp.act_up):
            m.addAction(act)
        self.file_menus = bar.actions()[1:]

    def _make_toolbar(self) -> None:
        fp = self.files_page
        tb = QToolBar(self.tr("Main toolbar"))
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in (
            fp.act_add_files,
            fp.act_add_folder,
            fp.act_new_folder,
            None,
            fp.act_share,
            fp.act_export,
            fp.act_delete,
            None,
            fp.act_refresh,
        ):
            tb.addSeparator() if act is None else tb.addAction(act)
        spacer = QWidget()
        spacer.setSizePolicy(
            spacer.sizePolicy().horizontalPolicy().Expanding, spacer.sizePolicy().verticalPolicy()
        )
        tb.addWidget(spacer)
        tb.addAction(self.act_lock)
        self.addToolBar(tb)
        self.toolbar = tb

    def _make_tray(self) -> None:
        tray = QSystemTrayIcon(icons.app_icon(), self)
        tray.setToolTip(self.tr("Strongroom"))
        menu = QMenu()
        self.act_show_hide = menu.addAction(self.tr("Show / hide"))
        self.act_show_hide.triggered.connect(self.toggle_visible)
        menu.addAction(self.act_lock)
        menu.addSeparator()
        menu.addAction(self.act_quit)
        tray.setContextMenu(menu)
        tray.activated.connect(
            lambda reason: (
                self.toggle_visible()
                if reason == QSystemTrayIcon.ActivationReason.Trigger
                else None
            )
        )
        tray.show()
        self.tray = tray
        self._tray_menu = menu

    def toggle_visible(self) -> None:
        if self.isVisible() and not self.isMinimized():
            self.hide()
        else:
            self.showNormal()
            self.raise_()
            self.activateWindow()

    def _update_toolbar(self) -> None:
        in_vault = self.session is not None
        self.toolbar.setVisible(in_vault)
        self.act_lock.setEnabled(in_vault)
        self.backup_action.action.setEnabled(in_vault)
        for a in self.file_menus:
            a.setVisible(in_vault)
        files_shown = in_vault and self.sections.currentWidget() is self.files_page
        self.files_page.set_active(files_shown)

    # ---- screens -----------------------------------------------------------------------
    STATUS_MS = 12_000

    def show_status(self, text: str) -> None:
        """A one-line status message that fades after a while (errors stay in job rows)."""
        self.status_label.setText(text)
        self._status_timer.start(self.STATUS_MS)

    def show_welcome(self) -> None:
        self.welcome.refresh()
        self.stack.setCurrentWidget(self.welcome)
        self._update_toolbar()

    def show_create(self) -> None:
        if self.session is not None:
            return
        self.create_page.reset()
        self.stack.setCurrentWidget(self.create_page)
        self._update_toolbar()

    def show_unlock(self, path: str, reason: str = "") -> None:
        self.unlock_page.set_vault(path, reason)
        self.stack.setCurrentWidget(self.unlock_page)
        self._update_toolbar()

    def _open_vault_dialog(self) -> None:
        if self.session is None:
            self.welcome.choose()

    @property
    def session(self) -> VaultSession | None:
        """The open vault's session (owned by `controller`), None while locked."""
        return self.controller.session

    @property
    def pending_shares(self) -> list[Path]:
        """Share files handed over while locked, received after the next unlock."""
        return self.controller.pending_shares

    @property
    def pages_pending(self) -> bool:
        """True while some hidden page has not been given the open session yet."""
        return self.controller.pages_pending

    def _watch_session(self, session: VaultSession) -> None:
        session.locked.connect(lambda: self.lock(self.tr("The vault was locked.")))
        session.files_erased.connect(self._close_erased_previews)

    def open_session(self, vault: Vault) -> None:
        # Only the Files page loads now, the hidden ones lazily (SessionController).
        session = self.controller.open(vault, synchronous=runner().synchronous)
        self.sidebar.setCurrentRow(self.SECTION_FILES)
        self.stack.setCurrentWidget(self.vault_view)
        self.setWindowTitle(
            self.tr("{name} — Strongroom").format(name=vault.path.name.removesuffix(".strongroom"))
        )
        self.idle.start()
        self._update_toolbar()
        self.files_page.table.setFocus()
        self.show_status(self.tr("Unlocked {path}").format(path=vault.path))
        self._unlock_notices(vault)
        for path in self.controller.take_held_shares():
            self.receive_share_file(path)
        QTimer.singleShot(0, lambda: self.copies.offer_kept(session))
        self.vault_opened.emit(vault)

    def _unlock_notices(self, vault: Vault) -> None:
        """Tell the owner, once, what the vault reports about this unlock (failed attempts,
        a rolled-back or pruned history, ...): see gui/notices.py."""
        own = self.unlock_page.last_own_failures
        self.unlock_page.last_own_failures = 0
        status, dialog = unlock_report_texts(vault.unlock_report, own)
        if status:
            self.show_status(status)
        if dialog:
            self.services.dialogs.warn(self, self.tr("Since you last opened this vault"), dialog)

    _SETTLE_DELAY_MS = 250  # after start-up, an unlock or a lock (heap.py)

    def _session_pages(self) -> tuple[Any, ...]:
        return (
            self.files_page,
            self.shared_page,
            self.contacts_page,
            self.groups_page,
            self.activity_page,
            self.trash_page,
            self.settings_page,
        )

    # ---- shared with me ----------------------------------------------------------------
    def receive_share_file(self, path: str | Path) -> None:
        """Receive a share file handed over by the desktop (`strongroom FILE.age`).

        With no vault open it waits for the next unlock and says so; then it is received
        into Shared with me, which is shown."""
        path = Path(path)
        if self.session is None:
            self.controller.hold_share(path)
            self.show_status(
                self.tr("Unlock a vault to receive {name}.").format(name=shown_name(path.name))
            )
            return
        vault = self.session.vault

        def done(record: Any) -> None:
            self.show_section(self.SECTION_SHARED)
            self.shared_page.reload()
            if isinstance(record, HandledMessage):  # a message file: applied, say what happened
                self.show_status(str(record))
            elif isinstance(record, ShareFromUnknownSender):  # it waits for a decision
                self.show_status(
                    self.tr(
                        "{name} is from someone who is not in your contacts: it waits for "
                        "you under \u201cWaiting for you\u201d."
                    ).format(name=shown_name(path.name))
                )
            elif record.duplicate:
                self.show_status(
                    self.tr("{name} was already received.").format(name=record.display_name)
                )
            else:
                self._received_new(1)

        run_task(
            lambda _c: receive_or_apply(vault, path),
            done,
            warn_error(
                self.services.dialogs,
                self,
                self.tr("Receive {name}").format(name=shown_name(path.name)),
            ),
            title=self.tr("Receiving {name}").format(name=shown_name(path.name)),
            cancellable=False,
        )

    def _received_new(self, count: int) -> None:
        text = self.tr("%n new files shared with you.", "one: %n new file shared with you.", count)
        self.show_status(text)
        if self.tray is not None:
            self.tray.showMessage(self.tr("Strongroom"), text, icons.app_icon())

    def _preview_received(self, record: Any) -> None:
        if record is None or record.path is None or self.session is None:
            return
        vault, path = self.session.vault, record.path
        run_task(
            lambda _c: (vault.item(path), vault.read_bytes(path, record=False)),
            lambda r: self.show_preview(r[0], r[1]),
            # On the page the person is looking at ("too large to preview", damage, ...).
            say_error(self.shared_page.message.show_message),
            title=self.tr("Opening preview of {name}").format(name=record.display_name),
            cancellable=False,
        )

    def _export_received(self, record: Any) -> None:
        if record is None or record.path is None or self.session is None:
            return
        dest = self.services.dialogs.choose_directory(
            self, self.tr("Export to folder"), self.services.home_dir
        )
        if not dest or self.session is None:
            return
        vault, path = self.session.vault, record.path
        target = Path(dest) / record.stored_name
        run_task(
            lambda ctx: vault.export(path, target, cancel=ctx.cancelled),
            lambda p: self.show_status(self.tr("Exported to {path}.").format(path=p)),
            say_error(self.show_status),
            title=self.tr("Exporting {name}").format(name=record.display_name),
        )

    def _open_received(self, record: Any) -> None:
        if record is None or record.path is None or self.session is None:
            return
        vault, path = self.session.vault, record.path

        def done(p: Path) -> None:
            if not self.services.dialogs.open_url(QUrl.fromLocalFile(str(p))):
                self.show_status(
                    self.tr("No app could open {name}.").format(name=record.display_name)
                )
                return
            # The vault's rule (Versions._refuse_received), said where the person acts.
            text = self.tr(
                "Opened {name} in another app. It was shared with you by {who} and changes "
                "only when they send a new version: changes you save there can be kept as a "
                "file of your own when the vault locks."
            )
            who = shown_name(record.sender_name) if record.sender_name else self.tr("someone")
            self.show_status(text.format(name=record.display_name, who=who))

        run_task(
            lambda _c: vault.open_external(path),
            done,
            say_error(self.show_status),
            title=self.tr("Decrypting {name}").format(name=record.display_name),
            cancellable=False,
        )

    def show_section(self, section: int) -> None:
        self.sidebar.setCurrentRow(section)

    def _go_to_section(self, section: int) -> None:
        """Ctrl+digit: show that section (only with a vault open) and focus its sidebar row."""
        if self.session is not None and self.stack.currentWidget() is self.vault_view:
            self.show_section(section)
            self.sidebar.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # ---- previews ----------------------------------------------------------------------
    def show_preview(self, record: FileRecord, data: bytes) -> PreviewWindow:
        window = PreviewWindow(record, data, self)
        # However the window goes (Esc, Close, the title bar, deleteLater), it leaves the
        # list: `lock()` must never reach a deleted window.
        window.closed.connect(self._forget_preview)
        window.finished.connect(lambda _r, w=window: self._forget_preview(w))
        window.destroyed.connect(lambda _o=None, w=window: self._forget_preview(w))
        window.open_external_requested.connect(self.files_page.open_external_selected)
        self.previews.append(window)
        window.show()
        if window.kind != "none" and self.session is not None:
            # Read without a record; "Previewed" is written only now that something was
            # shown (a kind of file with no preview shows nothing).
            vault = self.session.vault
            run_task(
                lambda _c: vault.record_preview(record.id),
                lambda _r: None,
                say_error(self.show_status),
                quiet=True,
            )
        return window

    def _forget_preview(self, window: PreviewWindow) -> None:
        self.previews = [w for w in self.previews if w is not window]

    def _close_erased_previews(self, ids: list[int]) -> None:
        """Files erased for good (Delete permanently, a revocation): their previews close, as
        at lock — the plaintext they show is what the erasure destroyed."""
        for window in [w for w in self.previews if w.record.id in ids]:
            if shiboken6.isValid(window):
                window.close()

    def _close_previews(self) -> None:
        windows, self.previews = self.previews, []
        for window in windows:
            if shiboken6.isValid(window):
                try:
                    window.close()
                except RuntimeError:  # deleted between the check and the call
                    log.warning("a preview window was already gone at lock")

    # ---- locking -----------------------------------------------------------------------
    def request_lock(self) -> None:
        """Lock asked for by the person (Lock, Ctrl+L, the tray): copies with changes not
        stored yet are never wiped without asking — store them, discard them, or cancel."""
        session = self.session
        copies = self.copies.changed(session)
        if session is None or not copies:
            self.lock()
            return
        choice = self.copies.ask(copies, "lock")
        if self.session is not session:
            return  # locked meanwhile (auto-lock keeps the copies)
        if choice == DISCARD:
            self.lock(keep_changed=False)
        elif choice == SAVE:
            self.copies.save(session, copies, then=lambda: self.lock())

    def lock(self, reason: str = "", *, keep_changed: bool = True) -> None:
        """Close every plaintext view, stop jobs, lock the vault, show the unlock screen.

        The screen changes at once; `Vault.lock()` runs on a worker because it waits for
        any vault operation in progress (cancelled just before) to stop. Locking cannot
        stop halfway: each step is guarded, so a step that fails (a window already gone,
        a page in a bad state) is logged and the later ones still run — the vault is
        locked, its temp folder wiped and the unlock screen shown whatever happened.
        """
        session = self.controller.detach()
        if session is None:
            return
        path = session.vault.path
        # Nobody was asked (auto-lock, sleep): copies changed in another app are kept, and
        # offered after the next unlock. Say so where the person will look.
        kept = self.copies.changed(session) if keep_changed else []
        if kept:
            names = ", ".join(f"“{shown_name(c.name)}”" for c in kept)
            note = (
                self.tr(
                    "{names} has changes not stored yet: that copy was kept, not wiped. After "
                    "unlocking you can store the changes or discard them."
                )
                if len(kept) == 1
                else self.tr(
                    "{names} have changes not stored yet: those copies were kept, not wiped. "
                    "After unlocking you can store the changes or discard them."
                )
            ).format(names=names)
            reason = f"{reason} {note}" if reason else note
        steps: list[Callable[[], object]] = [self.idle.stop, self._close_previews]
        steps += [lambda: [job.cancel() for job in runner().active_jobs]]
        steps += [functools.partial(page.set_session, None) for page in self._session_pages()]
        steps += [heap.release]  # the session's objects are about to become garbage
        for step in steps:
            _guarded(step)
        _guarded(lambda: self._close_session(session, keep_changed))
        _guarded(
            lambda: QTimer.singleShot(self._SETTLE_DELAY_MS, lambda: heap.settle(collect=True))
        )
        _guarded(lambda: self.setWindowTitle(self.tr("Strongroom")))
        _guarded(lambda: self.show_unlock(str(path), reason or self.tr("The vault is locked.")))
        _guarded(lambda: self.show_status(""))
        _guarded(lambda: self.vault_locked.emit(reason))

    def _close_session(self, session: VaultSession, keep_changed: bool) -> None:
        """Lock the vault on a worker; if no job can be started, lock it here."""
        try:
            run_task(lambda _c: session.close(keep_changed=keep_changed), quiet=True)
        except Exception:
            log.exception("could not lock the vault on a worker; locking it here")
            session.close(keep_changed=keep_changed)

    def _apply_autolock(self) -> None:
        sp = self.settings_page
        self.idle.enabled = sp.autolock_enabled
        self.idle.minutes = sp.autolock_minutes_value
        self.idle.lock_on_system = sp.lock_on_system

    def _theme_changed(self, theme: str) -> None:
        apply_theme(theme)
        self._schedule_retint()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # The palette changes with the Theme setting, and also when the desktop switches
        # between light and dark while the setting is "system".
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ThemeChange):
            self._schedule_retint()

    def _schedule_retint(self) -> None:
        """Line icons are tinted when rendered: redraw them for the new palette, once per
        burst of change events."""
        if not self._retint_pending:
            self._retint_pending = True
            QTimer.singleShot(0, self._retint)

    def _retint(self) -> None:
        self._retint_pending = False
        # Style sheets resolve palette(...) when they are applied: apply them again.
        for widget in self.findChildren(QWidget):
            sheet = widget.styleSheet()
            if sheet:
                widget.setStyleSheet(sheet)
        icons.retint(self)
        forget_file_icons()
        model = self.files_page.model
        model.dataChanged.emit(model.index(0, 0), model.index(model.rowCount() - 1, 0))
        self.files_page.refresh_details()
        self.sidebar.retint()
        self.groups_page.retint()
        self.files_page.breadcrumbs.set_path(self.files_page.folder_path)

    # ---- drops on the window: open a vault folder, or receive share files --------------
    def _dropped_shares(self, event: QDropEvent) -> list[Path]:
        """With a vault open: the dropped files if every one is a share or message file
        (`.age` or age's header), else nothing. (The file table adds files instead.)"""
        urls = event.mimeData().urls()
        paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile() and u.toLocalFile()]
        if self.session is None or not paths or len(paths) != len(urls):
            return []
        if all(p.is_file() and looks_like_share(p) for p in paths):
            return paths
        return []

    def _receive_dropped_shares(self, paths: list[str]) -> None:
        """Shares dropped on My files: received as if dropped on the window."""
        for path in paths:
            self.receive_share_file(path)

    def _vault_drop(self, event: QDropEvent) -> bool:
        urls = event.mimeData().urls()
        return (
            self.session is None
            and len(urls) == 1
            and urls[0].isLocalFile()
            and vault_folder_of(urls[0].toLocalFile()) is not None
        )

    # A copy, never the proposed move: the source must not delete the vault folder, nor
    # the share file it receives.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        accept_copy(event, self._vault_drop(event) or bool(self._dropped_shares(event)))

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        accept_copy(event, self._vault_drop(event) or bool(self._dropped_shares(event)))

    def dropEvent(self, event: QDropEvent) -> None:
        shares = self._dropped_shares(event)
        if accept_copy(event, bool(shares)):
            for path in shares:  # the same path as a share file opened from the desktop
                self.receive_share_file(path)
        elif accept_copy(event, self._vault_drop(event)):
            self.welcome.request_open(event.mimeData().urls()[0].toLocalFile())

    # ---- shutdown ----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel jobs, wait for workers, lock the vault (wiping its temp folder)."""
        for job in runner().active_jobs:
            job.cancel()
        runner().wait_for_done(30_000)
        session = self.controller.detach()
        _guarded(self._close_previews)
        if session is not None:
            # Unless the person chose to discard them, changed copies are kept (FORMAT.md).
            session.close(keep_changed=not self.copies.discard_at_exit)
        if self.create_page.vault is not None:
            self.create_page.vault.lock()
            self.create_page.vault = None
        if self.tray is not None:
            self.tray.hide()

    def quit(self) -> None:
        if self.close():  # not when the person chose to keep working (changed copies)
            QTimer.singleShot(0, QApplication.quit)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            # Start-up is over once the window is up: a quiet moment (heap.py).
            QTimer.singleShot(self._SETTLE_DELAY_MS, heap.settle)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.copies.settle_before_exit():
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)
