"""The files page's item actions that ask and then run in the background: export, new folder,
rename, move, delete, share, and drag-out (`FileActions`), so the page stays a layout with
its listing, selection and adding."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from strongroom.vault import Cancelled, FileRecord, Item, Vault

from ..editing import erase_note
from ..error_text import error_message
from ..formatting import human_size, shown_name
from ..sharing import ShareDialog
from ..tasks import Job, log_error, run_task, runner, say_error, warn_error
from .view import DRAG_EXPORT_LIMIT

if TYPE_CHECKING:
    from .page import FilesPage


def replaced_by_version(src: str, old: Item) -> bool:
    """Whether Replace stores `src` as the new version of `old` (a file replacing a file:
    same item, same shares, the old contents kept as the previous version). Anything but
    a folder counts as a file here: the add reads it and refuses what it cannot store."""
    return isinstance(old, FileRecord) and not Path(src).is_dir()


class FileActions(QObject):
    """The files page's item actions that ask and then run in the background. Each uses only
    the page's public side (selection, vault, services, `status`, `refresh`)."""

    def __init__(self, page: FilesPage) -> None:
        super().__init__(page)
        self.page = page
        # What this session's last Delete moved to the Trash and the vault's trash still
        # holds: Undo's target (`check_trashed` keeps it true to the Trash page).
        self.last_trashed: list[int] = []

    def drop_paths(self, paths: list[str]) -> None:
        """Files dropped from another app: the ones that are Strongroom shares (or messages)
        for me go to the page's `shares_dropped`, to be received as a share file opened
        from the desktop is; the rest — a plain `.age` file included — are added."""
        page = self.page
        if page.session is None or not paths:
            return
        vault = page.vault

        def sort(shares: list[str]) -> None:
            if page.session is None or page.vault is not vault:
                return
            taken = set(shares)
            rest = [p for p in paths if p not in taken]
            if shares:
                page.shares_dropped.emit(shares)
            note = ""
            if shares and rest:
                note = self.tr(
                    "%n dropped files are shares for you: they went to Shared with me.",
                    "one: %n dropped file is a share for you: it went to Shared with me.",
                    len(shares),
                )
            page.add_paths(rest, note=note)

        run_task(
            lambda _c: [p for p in paths if vault.is_share_for_me(p)],
            sort,
            page.add_failed,
            quiet=True,
        )

    def _change(self, work: Callable[[Any], object], title: str) -> None:
        """A quick change of the listing (new folder, rename, move; the vault's
        files-changed event lists the folder again); a failure is a dialog titled `title`."""
        page = self.page
        run_task(work, None, warn_error(page.services.dialogs, page, title), quiet=True)

    def _selection(self) -> list[Item]:
        """The selected items, or none while the page may not act (not shown, or locked)."""
        return self.page.selected_items() if self.page.acting() else []

    def export_selected(self) -> Job | None:
        page = self.page
        items = self._selection()
        if not items:
            return None
        dest = page.services.dialogs.choose_directory(
            page, self.tr("Export to folder"), page.services.home_dir
        )
        if not dest or page.session is None:  # auto-lock may strike while a dialog is open
            return None
        vault = page.vault
        total = sum(i.size for i in items if isinstance(i, FileRecord)) or 1

        def work(ctx: Any) -> list[Any]:
            out, base = [], 0
            for item in items:
                if ctx.cancelled():
                    raise Cancelled()

                def report(done: int, base: int = base) -> None:
                    ctx.progress((base + done, total))

                out.append(
                    vault.export_with_report(
                        item, Path(dest) / item.name, progress=report, cancel=ctx.cancelled
                    )
                )
                base += item.size if isinstance(item, FileRecord) else 0
            return out

        def done(results: list[Any]) -> None:
            text = self.tr(
                "Exported %n items to {dest}.", "one: Exported %n item to {dest}.", len(results)
            ).format(dest=dest)
            # A name too long for the destination was shortened: say so, once per item.
            notes = [r.note for r in results if r.note]
            page.status.emit(" ".join([text, *notes]))

        return run_task(
            work,
            done,
            lambda e: (
                page.status.emit(error_message(e))
                if isinstance(e, Cancelled)
                else page.services.dialogs.warn(page, self.tr("Export"), error_message(e))
            ),
            title=self.tr("Exporting %n items", "one: Exporting %n item", len(items)),
        )

    def new_folder(self) -> None:
        page = self.page
        if page.session is None:
            return
        name = page.services.dialogs.get_text(
            page,
            self.tr("New folder"),
            self.tr("Name of the new folder:"),
            self.tr("New folder"),
        )
        if not name or page.session is None:  # auto-lock may strike while a dialog is open
            return
        vault, parent = page.vault, page.folder.id if page.folder else "/"
        self._change(lambda _c: vault.mkdir(parent, name.strip()), self.tr("New folder"))

    def rename_selected(self) -> None:
        page = self.page
        items = self._selection()
        if len(items) != 1:
            return
        item, vault = items[0], page.vault
        name = page.services.dialogs.get_text(
            page,
            self.tr("Rename"),
            self.tr("New name for {name}:").format(name=shown_name(item.name)),
            item.name,
        )
        if not name or name == item.name or page.session is None:
            return
        self._change(lambda _c: vault.rename(item, name.strip()), self.tr("Rename"))

    def move_selected(self) -> None:
        page = self.page
        items = self._selection()
        if not items:
            return
        vault = page.vault
        moving = [i.path for i in items]

        def choose(all_items: list[Item]) -> None:
            folders = ["/"] + [
                i.path
                for i in all_items
                if i.is_folder
                and not any(i.path == m or i.path.startswith(m + "/") for m in moving)
            ]
            folders = [f for f in folders if f != page.folder_path]
            if not folders:
                page.services.dialogs.inform(
                    page, self.tr("Move"), self.tr("There is no other folder to move to.")
                )
                return
            labels = [self.tr("My files") if f == "/" else f for f in folders]
            choice = page.services.dialogs.choose_item(
                page,
                self.tr("Move"),
                self.tr("Move %n items to:", "one: Move %n item to:", len(items)),
                labels,
            )
            if choice is None or page.session is None:
                return
            target = folders[labels.index(choice)]

            def work(_c: object) -> None:
                for item in items:
                    vault.move(item, target)

            self._change(work, self.tr("Move"))

        run_task(
            lambda _c: vault.walk("/"),
            choose,
            say_error(page.status.emit),
            quiet=True,
        )

    def delete_selected(self) -> None:
        """Move the selection to the Trash: nothing is erased, so nothing is asked; the
        status line says how to get it back (the Trash page, or Undo)."""
        page = self.page
        if not page.acting():
            return
        items = page.selected_items()
        if not items or page.session is None:
            return
        vault = page.vault

        def work(_c: object) -> list[int]:
            for item in items:
                vault.delete(item)
            return [item.id for item in items]

        def done(ids: list[int]) -> None:
            self.last_trashed = ids
            page.status.emit(
                self.tr(
                    "Moved %n items to the Trash. Restore them from the Trash page (Ctrl+Z "
                    "undoes this).",
                    "one: Moved “{name}” to the Trash. Restore it from the Trash page "
                    "(Ctrl+Z undoes this).",
                    len(ids),
                ).format(name=shown_name(items[0].name))
            )
            page.update_actions()  # Undo is possible now (the listing follows the event)

        run_task(
            work,
            done,
            warn_error(page.services.dialogs, page, self.tr("Move to Trash")),
            title=self.tr("Moving to the Trash"),
            cancellable=False,
        )

    def check_trashed(self) -> None:
        """The vault changed: keep, of what the last Delete moved, only what its trash still
        holds (the Trash page may have put it back or erased it), so that Undo is offered
        only while it has something to put back."""
        page = self.page
        ids = self.last_trashed
        if not ids or page.session is None:
            return
        vault = page.vault

        def done(still: list[int]) -> None:
            if page.vault is vault and self.last_trashed == ids:
                self.last_trashed = still
                page.update_actions()

        run_task(
            lambda _c: _still_in_trash(vault, ids),
            done,
            log_error("reading the trash for Undo"),
            quiet=True,
        )

    def undo_delete(self) -> None:
        """Put back what the last Delete moved to the Trash (where it was), as far as the
        vault's trash still holds it."""
        page = self.page
        ids, self.last_trashed = self.last_trashed, []
        if not ids or page.session is None:
            return
        vault = page.vault

        def work(_c: object) -> list[Any]:
            return [vault.restore_from_trash(item_id) for item_id in _still_in_trash(vault, ids)]

        def done(restored: list[Any]) -> None:
            if restored:
                page.status.emit(
                    self.tr("Put back %n items.", "one: Put back “{name}”.", len(restored)).format(
                        name=restored[0].item.name
                    )
                )
            page.update_actions()

        run_task(work, done, warn_error(page.services.dialogs, page, self.tr("Undo")), quiet=True)

    def erase_selected(self) -> None:
        """Delete permanently: crypto-shred at once, without the Trash, after one question."""
        page = self.page
        items = self._selection()
        if not items:
            return
        if len(items) == 1:
            what = self.tr("“{name}”").format(name=shown_name(items[0].name))
            if items[0].is_folder:
                what = self.tr("the folder “{name}” and everything in it").format(
                    name=shown_name(items[0].name)
                )
        else:
            what = self.tr("{n} items").format(n=len(items))
        question = self.tr(
            "Delete {what} permanently, with every version? Their encryption keys are "
            "destroyed, so the contents cannot be recovered from this vault afterwards. "
            "They do not go to the Trash."
        ).format(what=what)
        note = erase_note(page.vault, items)  # copies open in another app
        ok = page.services.dialogs.confirm(
            page,
            self.tr("Delete permanently"),
            " ".join(filter(None, [question, note])),
            self.tr("Delete permanently"),
        )
        if not ok or page.session is None:  # auto-lock may strike while a dialog is open
            return
        vault = page.vault

        def work(_c: object) -> int:
            for item in items:
                vault.erase(item)
            return len(items)

        run_task(
            work,
            lambda n: page.status.emit(
                self.tr("Erased %n items for good.", "one: Erased %n item for good.", n)
            ),
            warn_error(page.services.dialogs, page, self.tr("Delete permanently")),
            title=self.tr("Erasing"),
            cancellable=False,
        )

    def replace_items(
        self, vault: Any, dest: int | str, replace: list[tuple[str, Item]], ctx: Any
    ) -> list[Item]:
        """On a worker: each (source, item) a duplicate add chose to Replace that is not a
        file replacing a file (that one is a new version, stored by the add itself:
        `replaced_by_version`). The source is added under a free name, the old item goes
        to the Trash, and the new one takes its name — so a failure on the way never
        leaves neither."""
        added: list[Item] = []
        for src, old in replace:
            temp = vault.free_name(dest, old.name)
            (new,) = vault.add_paths(
                [src], dest, progress=ctx.progress, cancel=ctx.cancelled, as_names=[temp]
            )
            vault.delete(old.id)
            added.append(vault.rename(new, old.name))
        return added

    # ---- versions (the details pane's Versions section) ------------------------------
    def load_versions(self, item: FileRecord) -> None:
        """Show `item`'s versions in the details pane, unless the selection moved on."""
        page = self.page
        vault, generation = page.vault, page.details_generation

        def done(versions: list[Any]) -> None:
            if generation == page.details_generation and page.vault is vault:
                page.details.show_versions(item.id, versions)

        run_task(
            lambda _c: vault.versions(item.id),
            done,
            log_error("loading the versions of the selected file"),
            quiet=True,
        )

    def restore_version(self, item_id: int, number: int) -> None:
        """Make version `number` current again, as a new version (nothing is overwritten)."""
        page = self.page
        if page.session is None:
            return
        vault = page.vault
        run_task(
            lambda ctx: vault.restore_version(item_id, number, progress=ctx.progress),
            lambda record: (
                page.status.emit(
                    self.tr(
                        "Version {n} of “{name}” is current again (stored as a new version; "
                        "nothing was overwritten)."
                    ).format(n=number, name=shown_name(record.name))
                ),
                page.refresh_details(),  # the file's row stays selected: its versions anew
            ),
            warn_error(page.services.dialogs, page, self.tr("Restore version")),
            title=self.tr("Restoring version {n}").format(n=number),
        )

    def export_version(self, item_id: int, number: int) -> Job | None:
        """Decrypt version `number` of a file to a folder the person picks, named
        "NAME (version N).EXT" so it never takes the current file's place."""
        page = self.page
        if page.session is None:
            return None
        item = next((i for i in page.selected_items() if i.id == item_id), None)
        if item is None:
            return None
        dest = page.services.dialogs.choose_directory(
            page, self.tr("Export version {n} to folder").format(n=number), page.services.home_dir
        )
        if not dest or page.session is None:
            return None
        vault = page.vault
        stem, dot, ext = item.name.rpartition(".")
        name = (
            f"{stem} (version {number}).{ext}"
            if dot and stem
            else f"{item.name} (version {number})"
        )
        return run_task(
            lambda ctx: vault.export(
                item_id,
                Path(dest) / name,
                version=number,
                progress=ctx.progress,
                cancel=ctx.cancelled,
            ),
            lambda path: page.status.emit(
                self.tr("Exported version {n} to {path}.").format(n=number, path=path)
            ),
            warn_error(page.services.dialogs, page, self.tr("Export version")),
            title=self.tr("Exporting version {n}").format(n=number),
        )

    def share_selected(self) -> None:
        """The share dialog for the selection; sharing runs in the background."""
        page = self.page
        items = self._selection()
        if not items or page.session is None:
            return
        vault = page.vault

        def ask(result: tuple[Any, Any, Any, Any]) -> None:
            contacts, groups, exchange, base = result
            if page.session is None:
                return
            dialog = ShareDialog(items, contacts, groups, exchange, page.services, page, plan=base)
            if not page.services.dialogs.exec_dialog(dialog) or page.session is None:
                return
            plan = dialog.plan()  # the vault's plan, as the summary showed it
            out_dir = dialog.out_dir or None

            def work(ctx: Any) -> list[Any]:
                return vault.share_as_planned(plan, cancel=ctx.cancelled)

            def done(shares: list[Any]) -> None:
                where = out_dir or self.tr("the exchange folder")
                page.status.emit(
                    self.tr(
                        "Shared %n files; the share files are in {where}.",
                        "one: Shared %n file; the share file is in {where}.",
                        len(shares),
                    ).format(where=where)
                )  # the Access column and Who has access follow the vault's share event

            run_task(
                work,
                done,
                warn_error(page.services.dialogs, page, self.tr("Share")),
                title=self.tr("Sharing %n items", "one: Sharing %n item", len(items)),
            )

        run_task(
            lambda _c: (
                vault.contacts(),
                vault.groups(),
                vault.exchange_folder,
                vault.plan_share(items, exchange=False),  # resolves the folders' files
            ),
            ask,
            say_error(page.status.emit),
            quiet=True,
        )

    def drag_export(self, items: list[Item]) -> list[Path]:
        page = self.page
        if any(not job.quiet for job in runner().active_jobs):
            # The vault runs one operation at a time; decrypting here would block the GUI
            # thread until the running job ends.
            raise ValueError(self.tr("Wait for the running job to finish, or use Export."))
        vault = page.vault
        total = 0
        for item in items:
            if isinstance(item, FileRecord):
                total += item.size
            else:
                total += sum(f.size for f in vault.walk(item) if isinstance(f, FileRecord))
        if total > DRAG_EXPORT_LIMIT:
            raise ValueError(
                self.tr("That is too much to drag at once ({size}); use Export instead.").format(
                    size=human_size(total)
                )
            )
        paths = []
        for item in items:
            if isinstance(item, FileRecord):
                # Decrypts into the vault's private temp folder (wiped on lock, exit and next
                # start) and records "file-opened-externally" in the access history.
                paths.append(vault.open_external(item))
            else:
                # A folder goes to a fresh folder inside the same private temp folder.
                private = vault.temp_dir
                private.mkdir(mode=0o700, parents=True, exist_ok=True)  # made on first use
                target = Path(tempfile.mkdtemp(dir=private)) / item.name
                paths.append(vault.export(item, target))
        page.status.emit(
            self.tr(
                "Exported %n items by dragging; recorded in the history.",
                "one: Exported %n item by dragging; recorded in the history.",
                len(paths),
            )
        )
        return paths


def _still_in_trash(vault: Vault, ids: list[int]) -> list[int]:
    """Those of `ids` that the vault's trash holds now, in the order given."""
    held = {e.id for e in vault.trash()}
    return [i for i in ids if i in held]
