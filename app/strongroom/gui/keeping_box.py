"""Settings' "Versions and Trash" box: which earlier versions of files are kept, and how long
deleted items stay in the Trash (issue 15). Both are the vault's own settings, applied at
every unlock; a change that erases something asks first."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from strongroom.vault import VersionPolicy

from .error_text import error_message
from .seams import Services
from .session import VaultSession
from .tasks import run_task, say_error

__all__ = ["KeepingBox"]

_POLICIES = (
    ("all", None, None),
    ("last", 5, None),
    ("last", 10, None),
    ("last", 20, None),
    ("days", None, 30),
    ("days", None, 90),
    ("days", None, 365),
)
_TRASH_DAYS: tuple[int | None, ...] = (7, 30, 90, 365, None)


class KeepingBox(QGroupBox):
    """Two choices: the version policy (`Vault.set_version_policy`) and the Trash's period
    (`Vault.set_trash_days`). `status` reports what a change erased."""

    def __init__(self, services: Services, status: Any, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Versions and Trash"), parent)
        self.services = services
        self.say = status
        self.session: VaultSession | None = None
        self.policy = VersionPolicy()
        self.trash_days: int | None = 30
        form = QFormLayout(self)
        # The boxes as wide as their choices, like the other settings' (not the whole row).
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.versions_box = QComboBox()
        self.versions_box.setAccessibleName(self.tr("Earlier versions of files to keep"))
        form.addRow(self.tr("Earlier versions"), self.versions_box)
        self.trash_box = QComboBox()
        self.trash_box.setAccessibleName(self.tr("How long deleted items stay in the Trash"))
        form.addRow(self.tr("Deleted items"), self.trash_box)
        note = QLabel(
            self.tr(
                "Applied now and at every unlock. What is no longer kept is erased for good: "
                "its encryption key is destroyed."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        form.addRow(note)
        self._fill(self.policy, self.trash_days)
        self.versions_box.activated.connect(lambda _i: self._policy_picked())
        self.trash_box.activated.connect(lambda _i: self._trash_picked())
        self.set_session(None)

    # ---- showing -----------------------------------------------------------------------
    def _policy_text(self, policy: VersionPolicy) -> str:
        if policy.keep == "last":
            return self.tr(
                "Keep the last %n versions", "one: Keep only the current version", policy.count or 1
            )
        if policy.keep == "days":
            return self.tr(
                "Keep those replaced in the last %n days",
                "one: Keep those replaced in the last day",
                policy.days or 1,
            )
        return self.tr("Keep all")

    def _trash_text(self, days: int | None) -> str:
        if days is None:
            return self.tr("Keep until I empty the Trash")
        return self.tr("Erase after %n days", "one: Erase after %n day", days)

    def _fill(self, policy: VersionPolicy, days: int | None) -> None:
        """Both boxes with their usual choices, plus the vault's own value if it is another
        (set with the command line, say)."""
        self.policy, self.trash_days = policy, days
        choices = [VersionPolicy(*p) for p in _POLICIES]
        if policy not in choices:
            choices.append(policy)
        self.versions_box.clear()
        for p in choices:
            self.versions_box.addItem(self._policy_text(p), p)
        self.versions_box.setCurrentIndex(choices.index(policy))
        periods = list(_TRASH_DAYS) if days in _TRASH_DAYS else [*_TRASH_DAYS[:-1], days, None]
        self.trash_box.clear()
        for d in periods:
            self.trash_box.addItem(self._trash_text(d), d)
        self.trash_box.setCurrentIndex(periods.index(days))

    def set_session(self, session: VaultSession | None) -> None:
        self.session = session
        self.versions_box.setEnabled(session is not None)
        self.trash_box.setEnabled(session is not None)
        if session is not None:
            self.reload()

    def reload(self) -> None:
        session = self.session
        if session is None:
            return
        vault = session.vault

        def done(result: tuple[VersionPolicy, int | None]) -> None:
            if self.session is session:
                self._fill(*result)

        run_task(
            lambda _c: (vault.version_policy, vault.trash_days),
            done,
            say_error(self.say),
            quiet=True,
        )

    # ---- changing ----------------------------------------------------------------------
    def _policy_picked(self) -> None:
        new = self.versions_box.currentData()
        if self.session is None or new == self.policy:
            return
        question = self.tr(
            "{policy}? Earlier versions this no longer keeps are erased now, for good, "
            "and from then on at every unlock."
        ).format(policy=self._policy_text(new))
        self._change(
            (self.tr("Earlier versions"), question) if new.keep != "all" else None,
            lambda vault: vault.set_version_policy(new),
            lambda n: self.tr(
                "Versions kept changed: %n earlier versions erased.",
                "one: Versions kept changed: %n earlier version erased.",
                n,
            ),
        )

    def _trash_picked(self) -> None:
        new = self.trash_box.currentData()
        if self.session is None or new == self.trash_days:
            return
        question = self.tr(
            "{period}? Items in the Trash for longer are erased now, for good, and from "
            "then on at every unlock."
        ).format(period=self._trash_text(new))
        self._change(
            (self.tr("Deleted items"), question) if new is not None else None,
            lambda vault: vault.set_trash_days(new),
            lambda n: self.tr(
                "Trash period changed: %n items erased from the Trash.",
                "one: Trash period changed: %n item erased from the Trash.",
                n,
            ),
        )

    def _change(self, ask: tuple[str, str] | None, work: Any, erased_text: Any) -> None:
        """Change a setting that may erase at once: after asking `ask` (title, question)
        when given — declined, the boxes show the setting again — run `work(vault)` and
        say how many were erased (`erased_text(n)`)."""
        session = self.session
        if session is None:
            return
        if ask is not None and not self.services.dialogs.confirm(self, *ask, self.tr("Change")):
            self._fill(self.policy, self.trash_days)
            return
        vault = session.vault

        def done(erased: int) -> None:
            if erased:
                self.say(erased_text(erased))
            else:
                self.say(self.tr("Setting changed. Nothing had to be erased."))
            self.reload()

        def failed(exc: BaseException) -> None:
            self.say(error_message(exc))
            self.reload()

        run_task(lambda _c: work(vault), done, failed, quiet=True)
