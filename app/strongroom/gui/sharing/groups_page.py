"""The Groups page: groups I administer (create, add and remove members) and groups I belong to."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QPushButton, QSplitter

from strongroom.vault import Contact, GroupRecord

from .. import icons
from ..seams import Services
from ..tasks import run_task
from .common import _empty_state, _Page


class GroupsPage(_Page):
    """Groups I administer (create, add and remove members) and groups I belong to."""

    RELOAD_ON = frozenset({"groups", "contacts"})  # members are contacts
    TITLE = QT_TRANSLATE_NOOP("GroupsPage", "Groups")
    SUBTITLE = QT_TRANSLATE_NOOP(
        "GroupsPage",
        "Share with several people at once. Removing a member changes the group's "
        "key, so they cannot read anything shared with the group afterwards.",
    )

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.create_button = QPushButton(icons.icon("add-folder"), self.tr("New group…"))
        self.add_member_button = QPushButton(icons.icon("contacts"), self.tr("Add member…"))
        self.remove_member_button = QPushButton(icons.icon("delete"), self.tr("Remove member…"))
        self._add_button_bar(self.create_button, self.add_member_button, self.remove_member_button)
        self.body.addWidget(self.message)
        split = QSplitter()
        self.groups_list = QListWidget()
        self.groups_list.setAccessibleName(self.tr("Groups"))
        self.members_list = QListWidget()
        self.members_list.setAccessibleName(self.tr("Members"))
        split.addWidget(self.groups_list)
        split.addWidget(self.members_list)
        split.setSizes([300, 600])
        empty = _empty_state(
            "group",
            self.tr("No groups yet"),
            self.tr(
                "A group lets you share with several people at once, and take one person's "
                "access away by removing them. Add their contact cards first, then make a group."
            ),
            self.tr("New group…"),
        )
        empty.action_button.clicked.connect(lambda _c=False: self.create_group())
        self.body.addWidget(self._with_empty(split, empty), 1)
        self.groups: list[GroupRecord] = []
        self.contacts: list[Contact] = []
        self.groups_list.currentRowChanged.connect(lambda _r: self._show_members())
        self.create_button.clicked.connect(self.create_group)
        self.add_member_button.clicked.connect(self.add_member)
        self.remove_member_button.clicked.connect(self.remove_member)

    def current(self) -> GroupRecord | None:
        row = self.groups_list.currentRow()
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def reload(self) -> None:
        if self.session is None:
            self.groups = []
            self.groups_list.clear()
            self.members_list.clear()
            return
        vault = self.session.vault
        keep = self.current().id if self.current() else None

        def done(result: tuple[list[GroupRecord], list[Contact]]) -> None:
            self.groups, self.contacts = result
            self.groups_list.clear()
            for g in self.groups:
                role = self.tr("you manage it") if g.mine else self.tr("member")
                self.groups_list.addItem(
                    QListWidgetItem(icons.row_icon("group"), f"{g.name}  ·  {role}")
                )
            self._show_empty(not self.groups)
            rows = [i for i, g in enumerate(self.groups) if g.id == keep]
            self.groups_list.setCurrentRow(rows[0] if rows else (0 if self.groups else -1))
            self._show_members()

        run_task(lambda _c: (vault.groups(), vault.contacts()), done, self._fail, quiet=True)

    def retint(self) -> None:
        """After a theme change: list items keep the icons they were made with, so redraw
        them for the new palette."""
        for row in range(self.groups_list.count()):
            self.groups_list.item(row).setIcon(icons.row_icon("group"))
        self._show_members()

    def _show_members(self) -> None:
        self.members_list.clear()
        g = self.current()
        mine = g is not None and g.mine
        self.add_member_button.setEnabled(mine)
        self.remove_member_button.setEnabled(mine and bool(g and g.members))
        if g is None:
            return
        for m in g.members:
            self.members_list.addItem(QListWidgetItem(icons.row_icon("contacts"), m.name))
        for m in g.removed:
            self.members_list.addItem(self.tr("{name} (removed)").format(name=m.name))

    def create_group(self) -> None:
        if self.session is None:
            return
        name = self.services.dialogs.get_text(self, self.tr("New group"), self.tr("Group name:"))
        if not name or self.session is None:
            return
        vault = self.session.vault
        run_task(
            lambda _c: vault.create_group(name.strip()),
            lambda _g: self.reload(),
            self._fail,
            quiet=True,
        )

    def add_member(self) -> None:
        g = self.current()
        if g is None or self.session is None:
            return
        present = {m.recipient for m in g.members}
        choices = [c for c in self.contacts if c.recipient not in present]
        if not choices:
            self.message.show_message(
                self.tr("Everyone in your contacts is in this group."), "info"
            )
            return
        name = self.services.dialogs.choose_item(
            self,
            self.tr("Add member"),
            self.tr("Add to {group}:").format(group=g.name),
            [c.name for c in choices],
        )
        if not name or self.session is None:
            return
        contact = next(c for c in choices if c.name == name)
        vault = self.session.vault
        run_task(
            lambda _c: vault.add_group_member(g.id, contact.id),
            lambda _r: self.reload(),
            self._fail,
            title=self.tr("Adding {name} to {group}").format(name=contact.name, group=g.name),
            cancellable=False,
        )

    def remove_member(self) -> None:
        g = self.current()
        if g is None or self.session is None or not g.members:
            return
        name = self.services.dialogs.choose_item(
            self,
            self.tr("Remove member"),
            self.tr("Remove from {group}:").format(group=g.name),
            [m.name for m in g.members],
        )
        if not name or self.session is None:
            return
        member = next(m for m in g.members if m.name == name)
        if not self.services.dialogs.confirm(
            self,
            self.tr("Remove member"),
            self.tr(
                "Remove {name} from {group}? The group gets a new key, sent to everyone else, "
                "so {name} cannot read anything shared with the group from now on. Files "
                "already shared stay readable to them until you revoke those shares, and "
                "nothing can erase what they already saved."
            ).format(name=name, group=g.name),
            self.tr("Remove"),
        ):
            return
        vault = self.session.vault
        ref = member.contact_id if member.contact_id is not None else member.recipient
        run_task(
            lambda _c: vault.remove_group_member(g.id, ref),
            lambda _r: self.reload(),
            self._fail,
            title=self.tr("Changing the key of {group}").format(group=g.name),
            cancellable=False,
        )
