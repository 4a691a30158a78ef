"""Screens shown while no vault is open: welcome, create (three steps) and unlock."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import Vault, WrongPassphrase, WrongRecoveryKey

from . import icons
from .error_text import error_message
from .seams import Services
from .tasks import run_task
from .widgets import FitStack, InlineMessage, PassphraseEdit, StrengthMeter, heading, muted

__all__ = ["CreatePage", "UnlockPage", "WelcomePage", "vault_folder_of"]

RECENT_KEY = "recent_vaults"
RECENT_MAX = 8
CLIPBOARD_CLEAR_MS = 60_000
# A MIME type, not a secret; the value "secret" keeps the data out of clipboard history.
PASSWORD_MANAGER_HINT = "x-kde-passwordManagerHint"  # noqa: S105


def vault_folder_of(path: str | Path) -> Path | None:
    """The vault folder for a dropped or chosen path: the folder or its `vault.strongroom`."""
    p = Path(path)
    if p.name == "vault.strongroom" and p.is_file():
        return p.parent
    if p.is_dir() and (p / "vault.strongroom").is_file():
        return p
    return None


def recent_vaults(services: Services) -> list[str]:
    value = services.settings.value(RECENT_KEY, [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or []) if v]


def remember_vault(services: Services, path: Path) -> None:
    items = [str(path), *(p for p in recent_vaults(services) if p != str(path))]
    services.settings.setValue(RECENT_KEY, items[:RECENT_MAX])


class _Card(QFrame):
    """A centred column of fixed width: the look of every pre-unlock screen."""

    def __init__(self, parent: QWidget | None = None, width: int = 520) -> None:
        super().__init__(parent)
        self.body = QVBoxLayout()
        self.body.setSpacing(12)
        self.body.setContentsMargins(32, 28, 32, 28)
        inner = QFrame()
        inner.setObjectName("card")
        inner.setStyleSheet(
            "#card { background: palette(base); border: 1px solid palette(midlight);"
            " border-radius: 14px; }"
        )
        inner.setLayout(self.body)
        inner.setFixedWidth(width + 64)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(inner)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)


def _app_badge(size: int = 72) -> QLabel:
    label = QLabel()
    label.setPixmap(icons.app_icon().pixmap(QSize(size, size)))
    label.setAlignment(Qt.AlignmentFlag.AlignLeft)
    return label


class WelcomePage(_Card):
    """Create a vault, open one, or pick a recent one. Vault folders can be dropped here."""

    create_requested = Signal()
    open_requested = Signal(str)  # vault folder

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.body.addWidget(_app_badge())
        self.body.addWidget(heading(self.tr("Welcome to Strongroom"), 8))
        self.body.addWidget(
            muted(
                self.tr(
                    "Keep files in an encrypted vault on this computer. Nothing leaves it "
                    "in plaintext and no server is involved."
                )
            )
        )
        buttons = QHBoxLayout()
        self.create_button = QPushButton(icons.icon("add-folder"), self.tr("Create a vault…"))
        self.create_button.setAccessibleName(self.tr("Create a new vault"))
        self.create_button.setDefault(True)
        self.open_button = QPushButton(icons.icon("vault-open"), self.tr("Open a vault…"))
        self.open_button.setAccessibleName(self.tr("Open an existing vault"))
        for b in (self.create_button, self.open_button):
            b.setMinimumHeight(36)
            buttons.addWidget(b)
        self.body.addLayout(buttons)
        self.body.addSpacing(12)
        self.recent_label = QLabel(self.tr("Recent vaults"))
        font = QFont(self.recent_label.font())
        font.setBold(True)
        self.recent_label.setFont(font)
        self.recent = QListWidget()
        self.recent.setAccessibleName(self.tr("Recent vaults"))
        self.recent.setIconSize(QSize(24, 24))
        # One click opens the vault's unlock screen (Enter and double-click too).
        self.recent.itemClicked.connect(self._open_recent)
        self.recent.itemActivated.connect(self._open_recent)
        self.body.addWidget(self.recent_label)
        self.body.addWidget(self.recent)
        self.body.addWidget(muted(self.tr("Tip: drop a vault folder on this window to open it.")))
        self.message = InlineMessage()
        self.body.addWidget(self.message)
        self.create_button.clicked.connect(self.create_requested)
        self.open_button.clicked.connect(self.choose)
        self.setTabOrder(self.create_button, self.open_button)
        self.setTabOrder(self.open_button, self.recent)
        self.refresh()

    def refresh(self) -> None:
        self.recent.clear()
        paths = recent_vaults(self.services)
        for path in paths:
            p = Path(path)
            entry = QListWidgetItem(icons.icon("lock"), f"{p.name.removesuffix('.strongroom')}")
            entry.setSizeHint(QSize(0, 34))
            entry.setToolTip(path)
            entry.setData(Qt.ItemDataRole.UserRole, path)
            entry.setData(Qt.ItemDataRole.AccessibleDescriptionRole, path)
            self.recent.addItem(entry)
        self.recent_label.setVisible(bool(paths))
        self.recent.setVisible(bool(paths))
        rows = max(1, min(len(paths), 5))
        self.recent.setFixedHeight(rows * 34 + 2 * self.recent.frameWidth() + 4)

    def choose(self) -> None:
        path = self.services.dialogs.open_vault(self, self.services.home_dir)
        if path:
            self.request_open(path)

    def _open_recent(self, entry: QListWidgetItem) -> None:
        self.request_open(entry.data(Qt.ItemDataRole.UserRole))

    def request_open(self, path: str) -> None:
        folder = vault_folder_of(path)
        if folder is None:
            self.message.show_message(
                self.tr("{path} is not a Strongroom vault.").format(path=path)
            )
            return
        self.message.clear_message()
        self.open_requested.emit(str(folder))


class CreatePage(_Card):
    """Create a vault in three steps: where, passphrase and name, then the recovery key."""

    created = Signal(object)  # the open Vault, after the recovery key was confirmed
    cancelled = Signal()

    STEP_WHERE, STEP_SECRET, STEP_RECOVERY = range(3)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent, width=560)
        self.services = services
        self.vault: Vault | None = None
        self.recovery_key = ""
        self.clipboard_clear_ms = CLIPBOARD_CLEAR_MS
        self.step_label = muted("")
        self.title = heading("", 7)
        # Short titles: word wrap would make the layout reserve height for two lines.
        self.title.setWordWrap(False)
        self.step_label.setWordWrap(False)
        self.body.addWidget(self.step_label)
        self.body.addWidget(self.title)
        self.steps = FitStack()
        self.body.addWidget(self.steps)
        self._build_where()
        self._build_secret()
        self._build_recovery()
        self.message = InlineMessage()
        self.body.addWidget(self.message)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedHeight(6)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName(self.tr("Creating the vault"))
        self.busy.hide()
        self.body.addWidget(self.busy)
        self.body.addStretch(1)  # spare height goes above the buttons, not between fields
        nav = QHBoxLayout()
        self.back_button = QPushButton(self.tr("Back"))
        self.next_button = QPushButton(self.tr("Next"))
        self.next_button.setDefault(True)
        nav.addWidget(self.back_button)
        nav.addStretch()
        nav.addWidget(self.next_button)
        self.body.addLayout(nav)
        self.back_button.clicked.connect(self._back)
        self.next_button.clicked.connect(self._next)
        self.reset()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter goes to the next step (a page is not a dialog: no default button). Fields
        and check boxes pass Enter on to here; a focused button is pressed instead."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            focused = self.focusWidget()
            if isinstance(focused, QPushButton) and focused.isVisible():
                focused.click()
            elif self.next_button.isVisible() and self.next_button.isEnabled():
                self.next_button.click()
            event.accept()
            return
        super().keyPressEvent(event)

    # ---- steps -------------------------------------------------------------------------
    def _build_where(self) -> None:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName(self.tr("Vault name"))
        self.location_edit = QLineEdit()
        self.location_edit.setAccessibleName(self.tr("Location"))
        browse = QPushButton(self.tr("Choose…"))
        browse.setAccessibleName(self.tr("Choose location"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.location_edit)
        row.addWidget(browse)
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.tr("Location"), row)
        self.target_label = muted("")
        form.addRow("", self.target_label)
        self.name_edit.textChanged.connect(self._validate)
        self.location_edit.textChanged.connect(self._validate)
        self.steps.addWidget(page)

    def _build_secret(self) -> None:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.pass_edit = PassphraseEdit()
        self.pass_edit.setAccessibleName(self.tr("Passphrase"))
        self.repeat_edit = PassphraseEdit()
        self.repeat_edit.setAccessibleName(self.tr("Repeat passphrase"))
        self.meter = StrengthMeter()
        self.weak_ok = QCheckBox(self.tr("I understand; use this weak passphrase anyway"))
        self.weak_ok.setAccessibleName(self.tr("Accept weak passphrase"))
        self.mismatch = InlineMessage()
        self.display_name_edit = QLineEdit()
        self.display_name_edit.setAccessibleName(self.tr("Your name"))
        self.display_name_edit.setPlaceholderText(self.tr("How others will see you"))
        form.addRow(self.tr("Passphrase"), self.pass_edit.field())
        form.addRow("", self.meter)
        form.addRow(self.tr("Repeat"), self.repeat_edit.field())
        form.addRow("", self.mismatch)
        form.addRow("", self.weak_ok)
        form.addRow(self.tr("Your name"), self.display_name_edit)
        form.addRow(
            "",
            muted(
                self.tr(
                    "The passphrase cannot be recovered by anyone. The next step gives you "
                    "a recovery key for the day you forget it."
                )
            ),
        )
        for w in (self.pass_edit, self.repeat_edit, self.display_name_edit):
            w.textChanged.connect(self._validate)
        self.weak_ok.toggled.connect(self._validate)
        self.steps.addWidget(page)

    def _build_recovery(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(
            QLabel(
                self.tr(
                    "This is your recovery key. With it you can open the vault and set a new "
                    "passphrase. Store it somewhere safe and offline; Strongroom keeps no "
                    "readable copy and cannot show it again."
                )
            )
        )
        layout.itemAt(0).widget().setWordWrap(True)
        self.key_label = QLabel()
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setAccessibleName(self.tr("Recovery key"))
        self.key_label.setWordWrap(True)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(mono.pointSizeF() + 2)
        self.key_label.setFont(mono)
        self.key_label.setStyleSheet(
            "QLabel { padding: 14px; border: 1px solid palette(mid); border-radius: 6px;"
            " background: palette(base); }"
        )
        layout.addWidget(self.key_label)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton(icons.icon("copy"), self.tr("Copy"))
        self.copy_button.setAccessibleName(self.tr("Copy recovery key"))
        self.save_button = QPushButton(icons.icon("save"), self.tr("Save to file…"))
        self.save_button.setAccessibleName(self.tr("Save recovery key to a file"))
        self.print_button = QPushButton(icons.icon("print"), self.tr("Print…"))
        self.print_button.setAccessibleName(self.tr("Print recovery key"))
        for b in (self.copy_button, self.save_button, self.print_button):
            buttons.addWidget(b)
        buttons.addStretch()
        layout.addLayout(buttons)
        self.stored_check = QCheckBox(self.tr("I have stored my recovery key somewhere safe"))
        self.stored_check.setAccessibleName(self.tr("I have stored the recovery key"))
        layout.addWidget(self.stored_check)
        self.copy_button.clicked.connect(self.copy_key)
        self.save_button.clicked.connect(self.save_key)
        self.print_button.clicked.connect(self.print_key)
        self.print_button.setVisible(_print_support())
        self.stored_check.toggled.connect(self._validate)
        self.steps.addWidget(page)

    # ---- flow --------------------------------------------------------------------------
    def reset(self) -> None:
        self.vault = None
        self.recovery_key = ""
        self.name_edit.setText(self.tr("My vault"))
        self.location_edit.setText(self.services.home_dir)
        for w in (self.pass_edit, self.repeat_edit, self.display_name_edit):
            w.clear()
        self.weak_ok.setChecked(False)
        self.stored_check.setChecked(False)
        self.key_label.clear()
        self.message.clear_message()
        self._show_step(self.STEP_WHERE)

    @property
    def target(self) -> Path:
        name = self.name_edit.text().strip()
        return Path(self.location_edit.text().strip()) / f"{name}.strongroom"

    def _show_step(self, step: int) -> None:
        self.steps.setCurrentIndex(step)
        titles = [
            self.tr("Where should the vault live?"),
            self.tr("Choose a passphrase"),
            self.tr("Save your recovery key"),
        ]
        self.title.setText(titles[step])
        self.step_label.setText(self.tr("Step {n} of 3").format(n=step + 1))
        self.back_button.setText(self.tr("Cancel") if step == self.STEP_WHERE else self.tr("Back"))
        self.back_button.setVisible(step != self.STEP_RECOVERY)
        self.next_button.setText(
            [self.tr("Next"), self.tr("Create vault"), self.tr("Open my vault")][step]
        )
        (self.name_edit, self.pass_edit, self.copy_button)[step].setFocus()
        self._validate()

    def _browse(self) -> None:
        path = self.services.dialogs.choose_directory(
            self, self.tr("Where to create the vault"), self.location_edit.text()
        )
        if path:
            self.location_edit.setText(path)

    def _validate(self) -> None:
        step = self.steps.currentIndex()
        ok = False
        if step == self.STEP_WHERE:
            name = self.name_edit.text().strip()
            loc = Path(self.location_edit.text().strip() or ".")
            self.target_label.setText(self.tr("Will be created as {path}").format(path=self.target))
            if not name or "/" in name or name in (".", ".."):
                self.message.show_message(self.tr("Give the vault a name."), "info")
            elif not loc.is_dir():
                self.message.show_message(self.tr("That location is not a folder."))
            elif self.target.exists():
                self.message.show_message(self.tr("Something with that name is already there."))
            else:
                self.message.clear_message()
                ok = True
        elif step == self.STEP_SECRET:
            pw, again = self.pass_edit.text(), self.repeat_edit.text()
            self.meter.update_for(pw, [self.display_name_edit.text(), self.name_edit.text()])
            self.weak_ok.setVisible(self.meter.is_weak)
            if again and pw != again:
                self.mismatch.show_message(self.tr("The two passphrases do not match."))
            elif again and pw == again:
                self.mismatch.show_message(self.tr("The passphrases match."), "ok")
            else:
                self.mismatch.clear_message()
            # Why "Create vault" is not available yet, in the order the form is filled in.
            if not pw:
                why = self.tr("Type a passphrase to create the vault.")
            elif not again:
                why = self.tr("Type the passphrase again under Repeat.")
            elif pw != again:
                why = self.tr("The two passphrases must match to create the vault.")
            elif self.meter.is_weak and not self.weak_ok.isChecked():
                why = self.tr("Choose a stronger passphrase, or tick “use this weak passphrase”.")
            elif not self.display_name_edit.text().strip():
                why = self.tr("Type your name: it is how people you share with will see you.")
            else:
                why = ""
            ok = not why
            self.next_button.setToolTip(why)
            if self.meter.is_weak:
                self.message.show_message(
                    self.tr(
                        "This passphrase is weak: someone with a copy of the vault could "
                        "guess it. Prefer four or more random words."
                    ),
                    "warning",
                )
            elif why:
                self.message.show_message(why, "info")
            else:
                self.message.clear_message()
        else:
            ok = self.stored_check.isChecked()
        self.next_button.setEnabled(ok)

    def _back(self) -> None:
        step = self.steps.currentIndex()
        if step == self.STEP_WHERE:
            self.cancelled.emit()
        else:
            self._show_step(step - 1)

    def _next(self) -> None:
        step = self.steps.currentIndex()
        if step == self.STEP_WHERE:
            self._show_step(self.STEP_SECRET)
        elif step == self.STEP_SECRET:
            self._create()
        else:
            vault, self.vault = self.vault, None
            self.recovery_key = ""
            self.key_label.clear()
            self.created.emit(vault)

    def _create(self) -> None:
        target = self.target
        passphrase = self.pass_edit.text()
        display_name = self.display_name_edit.text().strip()
        kdf = self.services.kdf_params()
        kwargs = self.services.vault_kwargs()
        self._set_busy(True)

        def work(_ctx: object) -> tuple[Vault, str]:
            return Vault.create(
                target, passphrase, kdf_params=kdf, display_name=display_name, **kwargs
            )

        run_task(
            work,
            self._created,
            self._failed,
            title=self.tr("Creating vault"),
            cancellable=False,
        )

    def _created(self, result: tuple[Vault, str]) -> None:
        self._set_busy(False)
        self.vault, self.recovery_key = result
        remember_vault(self.services, self.vault.path)
        self.pass_edit.clear()
        self.repeat_edit.clear()
        self.key_label.setText(self.recovery_key)
        self._show_step(self.STEP_RECOVERY)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.message.show_message(error_message(exc))

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.next_button.setEnabled(not busy)
        self.back_button.setEnabled(not busy)
        self.steps.setEnabled(not busy)

    # ---- recovery key actions ----------------------------------------------------------
    def copy_key(self) -> None:
        clipboard = QGuiApplication.clipboard()
        key = self.recovery_key
        mime = QMimeData()
        mime.setText(key)
        # Clipboard-history managers (KDE Klipper, and others that honour it) do not keep
        # data marked as a password, so the key is gone once the clipboard is cleared.
        mime.setData(PASSWORD_MANAGER_HINT, QByteArray(b"secret"))
        clipboard.setMimeData(mime)
        self.message.show_message(
            self.tr("Copied. The clipboard will be cleared in one minute."), "info"
        )

        def clear() -> None:
            # Only clear what we put there: the person may have copied something else since.
            if clipboard.text() == key:
                clipboard.clear()

        QTimer.singleShot(self.clipboard_clear_ms, clear)

    def save_key(self) -> None:
        path = self.services.dialogs.save_file(
            self,
            self.tr("Save recovery key"),
            str(Path(self.services.home_dir) / "Strongroom recovery key.txt"),
            self.tr("Text files (*.txt)"),
        )
        if not path:
            return
        text = self.tr(
            "Strongroom recovery key\nVault: {vault}\n\n{key}\n\n"
            "With this key the vault can be opened and given a new passphrase.\n"
        ).format(vault=self.vault.path if self.vault else "", key=self.recovery_key)
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            self.message.show_message(error_message(exc))
            return
        self.message.show_message(self.tr("Saved to {path}.").format(path=path), "ok")

    def print_key(self) -> None:
        if not _print_support():
            return
        from PySide6.QtGui import QTextDocument
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return
        doc = QTextDocument()
        doc.setPlainText(
            self.tr("Strongroom recovery key\n\n{key}\n").format(key=self.recovery_key)
        )
        doc.print_(printer)


def _print_support() -> bool:
    try:
        from PySide6 import QtPrintSupport  # noqa: F401
    except ImportError:
        return False
    return True


class UnlockPage(_Card):
    """Unlock with the passphrase, or with the recovery key while setting a new passphrase."""

    unlocked = Signal(object)  # Vault
    back = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent, width=480)
        self.services = services
        self.vault_path: Path | None = None
        # Wrong passphrases / recovery keys typed in this window since it last opened each
        # vault: the vault's "failed attempts" notice is about someone else only beyond these.
        self.own_failures: dict[Path, int] = {}
        self.last_own_failures = 0  # for the vault just unlocked (read by the main window)
        self.body.addWidget(_app_badge(64))
        self.title = heading("", 7)
        self.body.addWidget(self.title)
        self.path_label = muted("")
        self.body.addWidget(self.path_label)
        self.modes = FitStack()
        self.body.addWidget(self.modes)
        # passphrase mode
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(0, 0, 0, 0)
        self.pass_edit = PassphraseEdit()
        self.pass_edit.setPlaceholderText(self.tr("Passphrase"))
        self.pass_edit.setAccessibleName(self.tr("Passphrase"))
        self.pass_edit.setMinimumHeight(32)
        self.unlock_button = QPushButton(icons.icon("unlock"), self.tr("Unlock"))
        self.unlock_button.setDefault(True)
        self.unlock_button.setMinimumHeight(32)
        row = QHBoxLayout()
        row.addWidget(self.pass_edit, 1)
        row.addWidget(self.unlock_button)
        col.addLayout(row)
        col.addWidget(self.pass_edit.caps_warning)
        self.recovery_link = QPushButton(self.tr("Forgot it? Use the recovery key"))
        self.recovery_link.setFlat(True)
        self.recovery_link.setStyleSheet("text-align: left; color: palette(link);")
        col.addWidget(self.recovery_link)
        self.modes.addWidget(page)
        self._build_recovery_mode()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedHeight(6)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName(self.tr("Unlocking"))
        self.busy.hide()
        self.body.addWidget(self.busy)
        self.message = InlineMessage()
        self.body.addWidget(self.message)
        self.back_button = QPushButton(self.tr("Other vault…"))
        self.back_button.setFlat(True)
        self.back_button.setStyleSheet("text-align: left;")
        self.body.addWidget(self.back_button)
        self.unlock_button.clicked.connect(self.unlock)
        self.pass_edit.returnPressed.connect(self.unlock)
        self.new_repeat_edit.returnPressed.connect(self.recover)
        self.recovery_link.clicked.connect(lambda: self.set_recovery_mode(True))
        self.cancel_recovery.clicked.connect(lambda: self.set_recovery_mode(False))
        self.recover_button.clicked.connect(self.recover)
        self.new_pass_edit.textChanged.connect(self.new_meter.update_for)
        self.back_button.clicked.connect(self.back)

    def _build_recovery_mode(self) -> None:
        """The recovery key and a new passphrase, shown instead of the passphrase field."""
        # recovery mode
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.key_edit = QLineEdit()
        self.key_edit.setAccessibleName(self.tr("Recovery key"))
        self.key_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.new_pass_edit = PassphraseEdit()
        self.new_pass_edit.setAccessibleName(self.tr("New passphrase"))
        self.new_repeat_edit = PassphraseEdit()
        self.new_repeat_edit.setAccessibleName(self.tr("Repeat new passphrase"))
        self.new_meter = StrengthMeter()
        self.recover_button = QPushButton(self.tr("Unlock and set new passphrase"))
        self.cancel_recovery = QPushButton(self.tr("Use passphrase instead"))
        self.cancel_recovery.setFlat(True)
        form.addRow(self.tr("Recovery key"), self.key_edit)
        form.addRow(self.tr("New passphrase"), self.new_pass_edit.field())
        form.addRow("", self.new_meter)
        form.addRow(self.tr("Repeat"), self.new_repeat_edit.field())
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_recovery)
        buttons.addStretch()
        buttons.addWidget(self.recover_button)
        form.addRow(buttons)
        self.modes.addWidget(page)

    def set_vault(self, path: str | Path, reason: str = "") -> None:
        self.vault_path = Path(path)
        self.title.setText(
            self.tr("Unlock {name}").format(name=self.vault_path.name.removesuffix(".strongroom"))
        )
        self.path_label.setText(str(self.vault_path))
        self.pass_edit.clear()
        self.set_recovery_mode(False)
        if reason:
            self.message.show_message(reason, "info")
        else:
            self.message.clear_message()
        self._set_busy(False)
        self.pass_edit.setFocus()

    def set_recovery_mode(self, on: bool) -> None:
        self.modes.setCurrentIndex(1 if on else 0)
        for w in (self.key_edit, self.new_pass_edit, self.new_repeat_edit):
            w.clear()
        self.message.clear_message()
        (self.key_edit if on else self.pass_edit).setFocus()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.modes.setEnabled(not busy)
        self.back_button.setEnabled(not busy)

    def unlock(self) -> None:
        passphrase = self.pass_edit.text()
        if not passphrase or self.vault_path is None:
            self.message.show_message(self.tr("Type the vault's passphrase."), "info")
            return
        path, kwargs = self.vault_path, self.services.vault_kwargs()
        self.message.clear_message()
        self._set_busy(True)
        run_task(
            lambda _ctx: Vault.open(path, passphrase, **kwargs),
            self._done,
            self._failed,
            title=self.tr("Unlocking"),
            quiet=True,  # the page shows its own busy indicator
        )

    def recover(self) -> None:
        key = self.key_edit.text().strip()
        new, again = self.new_pass_edit.text(), self.new_repeat_edit.text()
        if not key:
            self.message.show_message(self.tr("Type the recovery key."), "info")
            return
        if not new or new != again:
            self.message.show_message(self.tr("The two new passphrases do not match."))
            return
        if self.new_meter.is_weak:
            self.message.show_message(
                self.tr("Choose a stronger passphrase: four or more random words."), "warning"
            )
            return
        path, kwargs, kdf = (
            self.vault_path,
            self.services.vault_kwargs(),
            self.services.kdf_params(),
        )
        self._set_busy(True)
        run_task(
            lambda _ctx: Vault.open_with_recovery_key(path, key, new, kdf_params=kdf, **kwargs),
            self._done,
            self._failed,
            quiet=True,
        )

    def _failure_key(self) -> Path:
        path = self.vault_path or Path()
        return (vault_folder_of(path) or path).resolve()

    def _done(self, vault: Vault) -> None:
        self._set_busy(False)
        self.last_own_failures = self.own_failures.pop(self._failure_key(), 0)
        self.pass_edit.clear()
        self.key_edit.clear()
        self.new_pass_edit.clear()
        self.new_repeat_edit.clear()
        remember_vault(self.services, vault.path)
        self.unlocked.emit(vault)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, (WrongPassphrase, WrongRecoveryKey)):
            key = self._failure_key()
            self.own_failures[key] = self.own_failures.get(key, 0) + 1
        self.message.show_message(error_message(exc))
        self.pass_edit.selectAll()
        self.pass_edit.setFocus()
