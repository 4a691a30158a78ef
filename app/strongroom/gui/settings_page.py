"""Settings: auto-lock, history retention, theme, and facts about the open vault."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import CheckReport, Retention, VaultInfo

from . import icons
from .activity_page import RetentionBox, change_retention
from .colors import tune_palette
from .error_text import error_message
from .formatting import format_time, human_size
from .keeping_box import KeepingBox
from .seams import Services
from .session import VaultSession
from .style import install_style
from .tasks import log_error, run_task, say_error
from .widgets import InlineMessage, PassphraseEdit, StrengthMeter, add_fact_rows, heading

__all__ = ["THEMES", "ChangePassphraseDialog", "SettingsPage", "apply_theme"]

THEMES = ("system", "light", "dark")
AUTOLOCK_DEFAULT_MINUTES = 10
EDIT_WAIT_DEFAULT_MINUTES = 60


def _dark_palette() -> QPalette:
    p = QPalette()
    c = QColor
    roles = QPalette.ColorRole
    for role, color in (
        (roles.Window, c("#26282c")),
        (roles.WindowText, c("#e6e8eb")),
        (roles.Base, c("#1d1f22")),
        (roles.AlternateBase, c("#2a2d31")),
        (roles.ToolTipBase, c("#2f3237")),
        (roles.ToolTipText, c("#e6e8eb")),
        (roles.PlaceholderText, c("#9aa0a8")),
        (roles.Text, c("#e6e8eb")),
        (roles.Button, c("#2f3237")),
        (roles.ButtonText, c("#e6e8eb")),
        (roles.BrightText, c("#ff6b6b")),
        (roles.Light, c("#3a3d42")),
        (roles.Midlight, c("#34373c")),
        (roles.Mid, c("#4a4e55")),
        (roles.Dark, c("#141517")),
        (roles.Highlight, c("#3b6fd8")),
        (roles.HighlightedText, c("#ffffff")),
        (roles.Link, c("#7aa7ff")),
    ):
        p.setColor(role, color)
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, c("#6c7179"))
    return p


def apply_theme(name: str) -> str:
    """Light, dark or the system's scheme. Returns how: "native" or "palette".

    Qt 6.8+ can ask the platform for a colour scheme (`QStyleHints.setColorScheme`); where
    the platform theme does not support that (e.g. offscreen, some Linux desktops), a
    light or dark palette is set on the application instead.
    """
    app = QApplication.instance()
    if isinstance(app, QApplication):
        install_style(app)  # check boxes visible in every theme (gui/style.py)
    hints = QGuiApplication.styleHints()
    wanted = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(name)
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(wanted or Qt.ColorScheme.Unknown)
        if wanted is None or hints.colorScheme() == wanted:
            if isinstance(app, QApplication):
                app.setPalette(tune_palette(app.style().standardPalette()))
            return "native"
    if isinstance(app, QApplication):
        dark = wanted == Qt.ColorScheme.Dark
        palette = _dark_palette() if dark else app.style().standardPalette()
        # Placeholder (secondary) text, selection and links lifted to 4.5:1 (gui/colors.py).
        app.setPalette(tune_palette(palette))
    return "palette"


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


def _form(parent: QWidget) -> QFormLayout:
    form = QFormLayout(parent)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
    return form


class ElidedLabel(QLabel):
    """One line of text (a folder path) that never widens its page: cut in the middle to
    the width it gets, with the whole text in its tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(80)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str) -> None:  # type: ignore[override]
        self._full = text
        self.setToolTip(text)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._full, Qt.TextElideMode.ElideMiddle, max(self.width(), 80)
        )
        super().setText(shown)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._elide()


class ChangePassphraseDialog(QDialog):
    """Current passphrase, new one twice with the strength meter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Change passphrase"))
        form = QFormLayout(self)
        self.old = PassphraseEdit()
        self.new = PassphraseEdit()
        self.again = PassphraseEdit()
        for w, name in (
            (self.old, self.tr("Current passphrase")),
            (self.new, self.tr("New passphrase")),
            (self.again, self.tr("Repeat new passphrase")),
        ):
            w.setAccessibleName(name)
        self.meter = StrengthMeter()
        self.message = InlineMessage()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        form.addRow(self.tr("Current"), self.old.field())
        form.addRow(self.tr("New"), self.new.field())
        form.addRow("", self.meter)
        form.addRow(self.tr("Repeat"), self.again.field())
        form.addRow(self.message)
        form.addRow(self.buttons)
        self.new.textChanged.connect(self.meter.update_for)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)

    def _accept(self) -> None:
        if self.new.text() != self.again.text() or not self.new.text():
            self.message.show_message(self.tr("The two new passphrases do not match."))
        elif self.meter.is_weak:
            self.message.show_message(self.tr("Choose a stronger passphrase."), "warning")
        else:
            self.accept()


class SettingsPage(QWidget):
    """App-wide preferences (QSettings) and this vault's settings (stored in the vault)."""

    autolock_changed = Signal()
    theme_changed = Signal(str)
    status = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.session: VaultSession | None = None
        self.retention = Retention.UNLIMITED
        s = services.settings

        content = QWidget()
        content.setMaximumWidth(860)
        col = QVBoxLayout(content)
        col.setContentsMargins(16, 12, 16, 16)
        col.setSpacing(14)
        col.addWidget(heading(self.tr("Settings"), 6))

        # security
        self._build_locking_box(col)

        # history
        box = QGroupBox(self.tr("Access history"))
        form = _form(box)
        self.retention_box = RetentionBox()
        form.addRow(self.tr("Keep entries"), self.retention_box)
        col.addWidget(box)
        self.keeping_box = KeepingBox(services, self.status.emit)
        col.addWidget(self.keeping_box)

        # sharing
        self._build_sharing_box(col)

        # appearance
        self._build_appearance_box(col)

        # vault
        self._build_vault_box(col)
        col.addStretch()

        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        self._restore_and_connect(s)

    def _build_locking_box(self, col: QVBoxLayout) -> None:
        """Locking: after idle minutes, and on sleep or screen lock."""
        box = QGroupBox(self.tr("Locking"))
        form = _form(box)
        self.autolock_check = QCheckBox(self.tr("Lock after"))
        self.autolock_check.setAccessibleName(self.tr("Lock automatically when idle"))
        self.autolock_minutes = QSpinBox()
        self.autolock_minutes.setRange(1, 240)
        self.autolock_minutes.setSuffix(self.tr(" minutes without use"))
        self.autolock_minutes.setAccessibleName(self.tr("Idle minutes before locking"))
        row = QHBoxLayout()
        row.addWidget(self.autolock_check)
        row.addWidget(self.autolock_minutes)
        row.addStretch()
        form.addRow(row)
        self.edit_wait_minutes = QSpinBox()
        self.edit_wait_minutes.setRange(0, 480)
        self.edit_wait_minutes.setSuffix(self.tr(" more minutes"))
        self.edit_wait_minutes.setAccessibleName(
            self.tr("Minutes auto-lock waits while a file is open for editing")
        )
        wait_row = QHBoxLayout()
        wait_row.addWidget(QLabel(self.tr("While a file is open for editing, wait up to")))
        wait_row.addWidget(self.edit_wait_minutes)
        wait_row.addStretch()
        form.addRow(wait_row)
        self.system_lock_check = QCheckBox(
            self.tr("Lock when the computer sleeps or the screen locks")
        )
        form.addRow(self.system_lock_check)
        note = QLabel(
            self.tr(
                "Idle means no keyboard or mouse use in Strongroom. Sleep and screen lock are "
                "detected on Linux desktops with logind or a freedesktop screensaver; "
                "elsewhere the idle timer covers them. Locking closes every preview and "
                "wipes files opened in other apps; while one is open for editing, the idle "
                "lock waits the extra minutes set here."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        form.addRow(note)
        col.addWidget(box)

    def _build_sharing_box(self, col: QVBoxLayout) -> None:
        """Sharing: the exchange folder and the receipts policy."""
        box = QGroupBox(self.tr("Sharing"))
        form = _form(box)
        self.exchange_label = ElidedLabel(self.tr("Not set"))
        self.exchange_button = QPushButton(self.tr("Choose…"))
        self.exchange_button.setAccessibleName(self.tr("Choose exchange folder"))
        self.exchange_clear = QPushButton(self.tr("Stop using it"))
        row = QHBoxLayout()
        row.addWidget(self.exchange_label, 1)
        row.addWidget(self.exchange_button)
        row.addWidget(self.exchange_clear)
        form.addRow(self.tr("Exchange folder"), row)
        form.addRow(
            _note(
                self.tr(
                    "A folder that Syncthing, Nextcloud, Dropbox or a USB stick carries between "
                    "you and the people you share with. Strongroom writes shares, revocations "
                    "and receipts there and checks it every minute."
                )
            ),
        )
        self.receipts_box = QComboBox()
        self.receipts_box.setAccessibleName(self.tr("Receipts policy"))
        for key, label in (
            ("ask", self.tr("Ask me each time")),
            ("always", self.tr("Always send")),
            ("never", self.tr("Never send")),
        ):
            self.receipts_box.addItem(label, key)
        form.addRow(self.tr("Receipts senders ask for"), self.receipts_box)
        col.addWidget(box)

    def _build_appearance_box(self, col: QVBoxLayout) -> None:
        box = QGroupBox(self.tr("Appearance"))
        form = _form(box)
        self.theme_box = QComboBox()
        self.theme_box.setAccessibleName(self.tr("Theme"))
        for key, label in zip(
            THEMES, (self.tr("Same as the system"), self.tr("Light"), self.tr("Dark")), strict=True
        ):
            self.theme_box.addItem(label, key)
        form.addRow(self.tr("Theme"), self.theme_box)
        col.addWidget(box)

    def _build_vault_box(self, col: QVBoxLayout) -> None:
        """This vault: facts, check contents, change passphrase."""
        box = QGroupBox(self.tr("This vault"))
        vcol = QVBoxLayout(box)
        self.info_form = QFormLayout()
        self.info_form.setHorizontalSpacing(18)
        vcol.addLayout(self.info_form)
        buttons = QHBoxLayout()
        self.check_button = QPushButton(icons.icon("shield-check"), self.tr("Check contents…"))
        self.check_button.setToolTip(
            self.tr("Decrypt and verify every stored file against its recorded checksum.")
        )
        self.passphrase_button = QPushButton(icons.icon("key"), self.tr("Change passphrase…"))
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.passphrase_button)
        buttons.addStretch()
        vcol.addLayout(buttons)
        self.message = InlineMessage()
        vcol.addWidget(self.message)
        col.addWidget(box)

    def _restore_and_connect(self, s: QSettings) -> None:
        """Show the saved choices, then save each change."""
        self.autolock_check.setChecked(s.value("autolock/enabled", True, type=bool))
        self.autolock_minutes.setValue(
            int(s.value("autolock/minutes", AUTOLOCK_DEFAULT_MINUTES, type=int))
        )
        self.system_lock_check.setChecked(s.value("autolock/on_system", True, type=bool))
        self.edit_wait_minutes.setValue(
            int(s.value("autolock/edit_wait_minutes", EDIT_WAIT_DEFAULT_MINUTES, type=int))
        )
        theme = str(s.value("appearance/theme", "system"))
        self.theme_box.setCurrentIndex(max(0, self.theme_box.findData(theme)))

        self.autolock_check.toggled.connect(self._save_autolock)
        self.autolock_minutes.valueChanged.connect(self._save_autolock)
        self.system_lock_check.toggled.connect(self._save_autolock)
        self.edit_wait_minutes.valueChanged.connect(self._save_autolock)
        self.autolock_check.toggled.connect(self.autolock_minutes.setEnabled)
        self.autolock_minutes.setEnabled(self.autolock_check.isChecked())
        self.theme_box.currentIndexChanged.connect(self._theme_picked)
        self.retention_box.currentIndexChanged.connect(self._retention_picked)
        self.check_button.clicked.connect(self.deep_check)
        self.exchange_button.clicked.connect(lambda: self.set_exchange_folder())
        self.exchange_clear.clicked.connect(lambda: self.set_exchange_folder(clear=True))
        self.receipts_box.currentIndexChanged.connect(lambda _i: self._receipts_picked())
        self.passphrase_button.clicked.connect(self.change_passphrase)

    # ---- values ------------------------------------------------------------------------
    @property
    def autolock_enabled(self) -> bool:
        return self.autolock_check.isChecked()

    @property
    def autolock_minutes_value(self) -> int:
        return self.autolock_minutes.value()

    @property
    def autolock_edit_wait_value(self) -> int:
        return self.edit_wait_minutes.value()

    @property
    def lock_on_system(self) -> bool:
        return self.system_lock_check.isChecked()

    @property
    def theme(self) -> str:
        return str(self.theme_box.currentData())

    def _save_autolock(self, *_args: Any) -> None:
        s = self.services.settings
        s.setValue("autolock/enabled", self.autolock_enabled)
        s.setValue("autolock/minutes", self.autolock_minutes_value)
        s.setValue("autolock/on_system", self.lock_on_system)
        s.setValue("autolock/edit_wait_minutes", self.autolock_edit_wait_value)
        self.autolock_changed.emit()

    def _theme_picked(self, *_args: Any) -> None:
        self.services.settings.setValue("appearance/theme", self.theme)
        self.theme_changed.emit(self.theme)

    # ---- vault -------------------------------------------------------------------------
    def set_session(self, session: VaultSession | None) -> None:
        self.session = session
        self.message.clear_message()
        self.keeping_box.set_session(session)
        if session is None:
            while self.info_form.rowCount():
                self.info_form.removeRow(0)
        for w in (
            self.retention_box,
            self.check_button,
            self.passphrase_button,
            self.exchange_button,
            self.exchange_clear,
            self.receipts_box,
        ):
            w.setEnabled(session is not None)
        if session is not None:
            self.refresh_info()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh_info()  # counts change with every add and every history entry

    def set_retention_value(self, retention: Retention) -> None:
        self.retention = retention
        self.retention_box.set_value(retention)

    def refresh_info(self) -> None:
        if self.session is None:
            return
        vault = self.session.vault

        def sharing_done(result: tuple[Any, str, int]) -> None:
            folder, policy, waiting = result
            if self.session is None:
                return
            text = str(folder) if folder else self.tr("Not set")
            if waiting:
                text = self.tr(
                    "{folder} — %n messages waiting to be delivered",
                    "one: {folder} — %n message waiting to be delivered",
                    waiting,
                ).format(folder=text)
            self.exchange_label.setText(text)
            self.exchange_clear.setEnabled(folder is not None)
            self.receipts_box.blockSignals(True)
            self.receipts_box.setCurrentIndex(max(0, self.receipts_box.findData(policy)))
            self.receipts_box.blockSignals(False)

        run_task(
            lambda _c: vault.info(),
            self._show_info,
            log_error("reading the vault facts"),
            quiet=True,
        )
        run_task(
            lambda _c: (vault.exchange_folder, vault.receipts_policy, vault.outbox_count()),
            sharing_done,
            log_error("reading the sharing settings"),
            quiet=True,
        )

    def set_exchange_folder(self, clear: bool = False) -> None:
        if self.session is None:
            return
        folder = None
        if not clear:
            folder = self.services.dialogs.choose_directory(
                self, self.tr("Exchange folder"), self.services.home_dir
            )
            if not folder or self.session is None:
                return
        vault = self.session.vault
        run_task(
            lambda _c: vault.set_exchange_folder(folder),
            lambda _r: self.refresh_info(),
            say_error(self.message.show_message),
            quiet=True,
        )

    def _receipts_picked(self) -> None:
        if self.session is None:
            return
        vault, policy = self.session.vault, self.receipts_box.currentData()
        run_task(
            lambda _c: vault.set_receipts_policy(policy),
            lambda _r: None,
            say_error(self.message.show_message),
            quiet=True,
        )

    def _show_info(self, info: VaultInfo) -> None:
        if self.session is None or info.path != self.session.vault.path:
            return  # arrived after the vault was locked
        self.set_retention_value(info.retention)
        while self.info_form.rowCount():
            self.info_form.removeRow(0)
        rows = [
            (self.tr("Location"), str(info.path)),
            (self.tr("Your name"), info.display_name),
            (self.tr("Created"), format_time(info.created)),
            (
                self.tr("Contents"),
                self.tr("Files: {files} · Folders: {folders} · {size}").format(
                    files=info.file_count,
                    folders=info.folder_count,
                    size=human_size(info.total_size),
                ),
            ),
            (
                self.tr("Passphrase protection"),
                self.tr("Argon2id · memory {mem} · passes {it} · lanes {par}").format(
                    mem=human_size(info.kdf_memory_kib * 1024),
                    it=info.kdf_iterations,
                    par=info.kdf_parallelism,
                ),
            ),
            (self.tr("History entries"), str(info.history_entries)),
            (
                self.tr("Format"),
                self.tr("vault format {f}, schema {s}, SQLCipher {c}").format(
                    f=info.format_version, s=info.schema_version, c=info.sqlcipher_version
                ),
            ),
            (self.tr("Vault id"), info.vault_id),
        ]
        add_fact_rows(self.info_form, rows)

    def _retention_picked(self) -> None:
        if self.session is None:
            return
        change_retention(
            self,
            self.services,
            self.session.vault,
            self.retention_box,
            self.retention,
            lambda new: (self.set_retention_value(new), self.refresh_info()),
        )

    def deep_check(self) -> None:
        if self.session is None:
            return
        vault = self.session.vault
        self.check_button.setEnabled(False)

        def done(report: CheckReport) -> None:
            self.check_button.setEnabled(True)
            if report.ok:
                self.message.show_message(
                    self.tr(
                        "Everything checks out: the database and all {n} files are intact."
                    ).format(n=report.files_checked),
                    "ok",
                )
            else:
                lines = "; ".join(
                    f"{p.item_path or p.part}: {p.message}" for p in report.problems[:5]
                )
                self.message.show_message(
                    self.tr(
                        "%n problems found: {lines}",
                        "one: %n problem found: {lines}",
                        len(report.problems),
                    ).format(lines=lines)
                )

        def failed(exc: BaseException) -> None:
            self.check_button.setEnabled(True)
            self.message.show_message(error_message(exc))

        run_task(
            lambda ctx: vault.check(deep=True, progress=ctx.progress),
            done,
            failed,
            title=self.tr("Checking vault contents"),
            cancellable=False,
        )

    def change_passphrase(self) -> None:
        if self.session is None:
            return
        dialog = ChangePassphraseDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        old, new = dialog.old.text(), dialog.new.text()
        vault, kdf = self.session.vault, self.services.kdf_params()
        run_task(
            lambda _c: vault.change_passphrase(old, new, kdf_params=kdf),
            lambda _r: self.message.show_message(self.tr("Passphrase changed."), "ok"),
            say_error(self.message.show_message),
            title=self.tr("Changing passphrase"),
            cancellable=False,
        )
