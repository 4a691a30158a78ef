"""Take the README screenshots from the real app (a development tool, not part of the app).

    PYTHONPATH=app python tools/screenshots.py [--set main|safety|messages|keeping|all] [OUT_DIR]

Each set builds demo vaults in a temporary folder (cheap Argon2id, so it runs in seconds),
drives the real `MainWindow` through its screens and saves `QWidget.grab()` images into
OUT_DIR (default `docs/screenshots/`). Runs offscreen by default; under Xvfb set
QT_QPA_PLATFORM=xcb.

- `main`: create, files, previews, a job in progress, Activity, Settings, Shared with me,
  Contacts, Groups, who has access, the share dialog (light and dark), unlock, welcome.
- `safety` (issue 12): a revocation not delivered yet (Who has access and the Access
  column), the revoke dialog with no exchange folder, the changed-copy question at lock, and
  the unlock screen after an auto-lock kept a changed copy.
- `messages` (issue 12, items 9-12): Activity's sentences (also at 800x600), the empty
  Contacts page, and the choice offered when an added file's name is already taken.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from strongroom.crypto import kdf
from strongroom.gui import tasks
from strongroom.gui.app import create_app
from strongroom.gui.changed_copies import ChangedCopiesDialog
from strongroom.gui.duplicates import DuplicateDialog
from strongroom.gui.main_window import MainWindow
from strongroom.gui.seams import Dialogs, Services
from strongroom.gui.sharing import RevokeDialog, ShareDialog, VerifyContactDialog
from strongroom.vault import Vault

SIZE = (1200, 760)
DEMO_PASSPHRASE = "lantern orbit velvet cactus meadow"  # noqa: S105 (a throwaway demo vault)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


class _QuietDialogs(Dialogs):
    """Screenshots never block on a dialog: every question gets a fixed answer."""

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers = answers

    def confirm(self, *a: object, **k: object) -> bool:
        return True

    def save_file(self, *a: object, **k: object) -> str | None:
        return str(self.answers.get("save_file", "")) or None

    def choose_directory(self, *a: object, **k: object) -> str | None:
        return str(self.answers.get("choose_directory", "")) or None

    def open_url(self, url: object) -> bool:
        return True


# ----- the one set-up -------------------------------------------------------------------


@dataclass
class Studio:
    """One set's temporary world: folders, services with cheap Argon2id, a settable clock."""

    app: QApplication
    out: Path
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="strongroom-shots-")))
    now: list[float] = field(default_factory=lambda: [1000.0])
    services: Services = field(init=False)

    def __post_init__(self) -> None:
        for d in ("home", "config", "run", "src"):
            (self.tmp / d).mkdir(parents=True)
        self.services = Services(
            dialogs=_QuietDialogs({"save_file": str(self.tmp / "history.csv")}),
            settings=QSettings(str(self.tmp / "settings.ini"), QSettings.Format.IniFormat),
            clock=lambda: self.now[0],
            kdf_params=lambda: kdf.Argon2idParams.new(
                memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1
            ),
            config_dir=self.tmp / "config",
            temp_root=self.tmp / "run",
            home_dir=str(self.tmp / "home"),
            use_tray=False,
        )
        tasks.set_runner(tasks.SyncTaskRunner())

    def create_vault(self, name: str, display: str) -> Vault:
        vault, _ = Vault.create(
            self.tmp / f"{name}.strongroom",
            DEMO_PASSPHRASE,
            kdf_params=self.services.kdf_params(),
            display_name=display,
            config_dir=self.tmp / "config",
            temp_root=self.tmp / "run",
        )
        return vault

    def window(self) -> MainWindow:
        win = MainWindow(self.services)
        win.resize(*SIZE)
        win.show()
        win.activateWindow()
        return win

    def sources(self) -> list[Path]:
        return build_demo_sources(self.tmp / "src")

    def settle(self) -> None:
        for _ in range(5):
            self.app.processEvents()

    def save(self, widget: QWidget, name: str) -> Path:
        self.settle()
        path = self.out / f"{name}.png"
        widget.grab().save(str(path))
        print(f"saved {path}")
        return path


def _image(path: Path, w: int, h: int) -> None:
    """A small landscape picture drawn in memory (a demo photo)."""
    img = QImage(w, h, QImage.Format.Format_RGB32)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    sky = QLinearGradient(0, 0, 0, h)
    sky.setColorAt(0, QColor("#7fb3f5"))
    sky.setColorAt(1, QColor("#f6d8b0"))
    p.fillRect(0, 0, w, h, sky)
    p.setBrush(QColor("#fff3c4"))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QPointF(w * 0.75, h * 0.3), h * 0.09, h * 0.09)
    for color, base, amp in (("#5b7f6e", 0.62, 0.18), ("#3d5a4c", 0.75, 0.12)):
        p.setBrush(QColor(color))
        pts = [QPointF(0, h)]
        for i in range(0, 11):
            x = w * i / 10
            y = h * (base - amp * ((i * 37 % 10) / 10))
            pts.append(QPointF(x, y))
        pts.append(QPointF(w, h))
        p.drawPolygon(pts)
    p.end()
    img.save(str(path))


def build_demo_sources(root: Path) -> list[Path]:
    docs = root / "Documents"
    (docs / "Taxes 2025").mkdir(parents=True)
    (docs / "Letters").mkdir()
    photos = root / "Photos"
    photos.mkdir()
    (docs / "Taxes 2025" / "receipts.csv").write_text(
        "date,shop,amount\n2025-01-04,Hardware store,42.10\n2025-02-11,Pharmacy,13.50\n",
        encoding="utf-8",
    )
    (docs / "Taxes 2025" / "summary.txt").write_text("Total deductible: 1,284.30\n", "utf-8")
    (docs / "Letters" / "landlord.txt").write_text("Dear Ms. Olsen,\n\n...\n", "utf-8")
    (docs / "insurance-policy.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * 180_000)
    _image(photos / "lake-district.png", 900, 560)
    _image(photos / "harbour.png", 640, 420)
    notes = root / "passport-numbers.txt"
    notes.write_text("Passport: X1234567 (expires 2031)\nID card: 99 12 34\n", "utf-8")
    plan = root / "Garden plan.md"
    plan.write_text(
        "# Garden plan\n\n- Tomatoes along the south fence\n- Herbs by the kitchen door\n"
        "- Compost in the far corner\n",
        "utf-8",
    )
    (root / "family-budget.xlsx").write_bytes(b"PK\x03\x04" + b"\0" * 48_000)
    (root / "recipes.odt").write_bytes(b"PK\x03\x04" + b"\1" * 22_000)
    return [docs, photos, notes, plan, root / "family-budget.xlsx", root / "recipes.odt"]


def _people(s: Studio) -> tuple[Vault, Vault]:
    """Ben and Lena, each with a vault of their own (cards exchanged by the caller)."""
    return s.create_vault("ben", "Ben Okafor"), s.create_vault("lena", "Lena Berg")


def _friends_of(s: Studio, maria: Vault) -> tuple[Vault, Vault, Path]:
    """Ben (verified) and Lena, cards exchanged with Maria both ways; a drop folder."""
    ben, lena = _people(s)
    for other in (ben, lena):
        maria.add_contact(other.my_card().to_text())
        other.add_contact(maria.my_card().to_text())
    maria.verify_contact("Ben Okafor")
    drop = s.tmp / "drop"
    drop.mkdir()
    return ben, lena, drop


def _set_theme(win: MainWindow, theme: str) -> None:
    box = win.settings_page.theme_box
    box.setCurrentIndex(box.findData(theme))


# ----- set "main" -----------------------------------------------------------------------


def _create_steps(s: Studio, win: MainWindow) -> str:
    """Create: the three steps, with the real strength meter. Returns the recovery key."""
    win.show_create()
    cp = win.create_page
    cp.name_edit.setText("Personal")
    s.save(win, "create-1-location")
    cp.next_button.click()
    cp.display_name_edit.setText("Maria Olsen")
    cp.pass_edit.setText("summer2024")
    cp.repeat_edit.setText("summer2024")
    s.save(win, "create-2-weak-passphrase")
    cp.pass_edit.setText(DEMO_PASSPHRASE)
    cp.repeat_edit.setText(DEMO_PASSPHRASE)
    cp.next_button.click()
    s.save(win, "create-3-recovery-key")
    recovery = cp.recovery_key
    cp.stored_check.setChecked(True)
    cp.next_button.click()
    return recovery


def _main_history(s: Studio, vault: Vault) -> None:
    """Real actions for the history; Ben and Lena with cards exchanged, shares both ways, a
    group."""
    vault.read_bytes("/Garden plan.md")
    vault.read_bytes("/Photos/lake-district.png")
    vault.export("/Documents/Taxes 2025/receipts.csv", s.tmp / "receipts.csv")
    vault.rename("/recipes.odt", "Recipes.odt")
    ben, lena = _people(s)
    vault.add_contact(ben.my_card().to_text())
    vault.verify_contact("Ben Okafor")
    vault.add_contact(lena.my_card().to_text())
    ben.add_contact(vault.my_card().to_text())
    ben.verify_contact("Maria Olsen")
    lena.add_contact(vault.my_card().to_text())
    drop = s.tmp / "drop"
    drop.mkdir()
    ben.add_bytes("/", "Trip itinerary.txt", b"Day 1: Bergen\nDay 2: Flam railway\n")
    [incoming] = ben.share(["/Trip itinerary.txt"], to=["Maria Olsen"], out_dir=drop)
    vault.receive(incoming.path)
    lena.add_bytes("/", "Choir schedule.odt", b"PK\x03\x04" + b"\0" * 9000)
    [incoming] = lena.share(
        ["/Choir schedule.odt"], to=["Maria Olsen"], out_dir=drop, expires=timedelta(days=7)
    )
    vault.receive(incoming.path)
    vault.share(
        ["/Garden plan.md"], to=["Ben Okafor"], out_dir=drop, expires=timedelta(days=30),
        receipts=True,
    )  # fmt: skip
    family = vault.create_group("Family")
    vault.add_group_member(family.id, "Ben Okafor", out_dir=drop)
    vault.add_group_member(family.id, "Lena Berg", out_dir=drop)
    ben.lock()
    lena.lock()


def _files_scenes(s: Studio, win: MainWindow) -> None:
    """My files (light, a folder, dark, search) and the previews from memory."""
    fp = win.files_page
    fp.refresh()
    fp.select_names("Garden plan.md")
    s.save(win, "files")
    fp.open_folder("/Photos")
    fp.select_names("lake-district.png")
    s.save(win, "files-folder")
    _set_theme(win, "dark")
    fp.open_folder("/")
    fp.select_names("passport-numbers.txt")
    s.save(win, "files-dark")
    _set_theme(win, "system")
    s.settle()
    fp.open_folder("/")
    fp.search.setText("tax")
    fp._run_search()
    s.save(win, "files-search")
    fp.search.clear()
    fp._run_search()
    fp.select_names("Garden plan.md")
    fp.preview_selected()
    s.save(win.previews[-1], "preview-text")
    win.previews[-1].close()
    fp.open_folder("/Photos")
    fp.select_names("lake-district.png")
    fp.preview_selected()
    win.previews[-1].resize(980, 680)
    s.save(win.previews[-1], "preview-image")
    win.previews[-1].close()
    fp.open_folder("/")


def _job_scene(s: Studio, win: MainWindow) -> None:
    """A job in progress in the jobs area (a real add on a worker thread), then cancelled."""
    big = s.tmp / "src" / "Home videos.mkv"
    with big.open("wb") as f:
        f.truncate(1024 * 1024 * 1024)
    tasks.set_runner(tasks.ThreadTaskRunner())
    jobs = win.jobs
    runner = tasks.runner()
    runner.job_started.connect(jobs.add_job)
    job = win.files_page.add_paths([str(big)])
    while not jobs.rows or jobs.rows[0].bar.maximum() != 1000 or jobs.rows[0].bar.value() < 80:
        s.app.processEvents()
    s.save(win, "files-adding-with-progress")
    assert job is not None
    job.cancel()
    runner.wait_for_done()
    s.settle()
    tasks.set_runner(tasks.SyncTaskRunner())
    win.show_status("")


def _section_scenes(s: Studio, win: MainWindow) -> None:
    """Activity (verified), Settings, Shared with me, Contacts (and verifying), Groups."""
    win.show_section(win.SECTION_ACTIVITY)
    win.activity_page.verify()
    s.save(win, "activity")
    win.show_section(win.SECTION_SETTINGS)
    s.save(win, "settings")
    win.show_section(win.SECTION_SHARED)
    win.shared_page.table.selectRow(0)
    s.save(win, "shared-with-me")
    win.show_section(win.SECTION_CONTACTS)
    win.contacts_page.select_name("Ben Okafor")
    s.save(win, "contacts")
    verify = VerifyContactDialog(
        win.contacts_page.my_fingerprint, win.contacts_page.model.records()[0], win
    )
    verify.show()
    s.save(verify, "contact-verify")
    verify.close()
    win.show_section(win.SECTION_GROUPS)
    s.save(win, "groups")


def _share_scenes(s: Studio, win: MainWindow, vault: Vault) -> None:
    """Who has access, and the share dialog in the light and the dark theme (issue 12)."""
    fp = win.files_page
    win.show_section(win.SECTION_FILES)
    fp.open_folder("/")
    fp.select_names("Garden plan.md")
    s.save(win, "files-who-has-access")
    for name, theme in (("share-dialog", "system"), ("share-dialog-dark", "dark")):
        _set_theme(win, theme)
        s.settle()
        dialog = ShareDialog(
            [fp.selected_items()[0]], vault.contacts(), vault.groups(), None, s.services, win
        )
        dialog.check("Lena Berg")
        if theme == "system":
            dialog.expiry.setCurrentIndex(2)
        dialog.receipts.setChecked(True)
        dialog.show()
        s.save(dialog, name)
        dialog.close()
    _set_theme(win, "system")
    win.activateWindow()  # focus (and its ring) is back in the main window
    s.settle()
    win.show_section(win.SECTION_FILES)


def _lock_scenes(s: Studio, win: MainWindow, recovery: str) -> None:
    """Lock, a wrong passphrase, the recovery path, welcome with a recent vault."""
    win.lock()
    up = win.unlock_page
    s.save(win, "unlock")
    up.pass_edit.setText("summer2024")
    up.unlock()
    s.save(win, "unlock-wrong-passphrase")
    up.set_recovery_mode(True)
    up.key_edit.setText(recovery)
    up.new_pass_edit.setText("meadow copper lantern violet")
    s.save(win, "unlock-recovery-key")
    win.show_welcome()
    s.save(win, "welcome")


def main_set(s: Studio) -> None:
    win = s.window()
    recovery = _create_steps(s, win)
    win.files_page.add_paths([str(p) for p in s.sources()])
    vault = win.session.vault  # type: ignore[union-attr]
    _main_history(s, vault)
    _files_scenes(s, win)
    _job_scene(s, win)
    _section_scenes(s, win)
    _share_scenes(s, win, vault)
    _lock_scenes(s, win, recovery)
    win.close()  # shuts down; the next set's window is the active one


# ----- set "safety" ---------------------------------------------------------------------


def safety_set(s: Studio) -> None:
    maria = s.create_vault("Personal", "Maria Olsen")
    maria.add_paths([str(p) for p in s.sources()], "/")
    ben, lena, drop = _friends_of(s, maria)
    [share] = maria.share(["/Garden plan.md"], to=["Ben Okafor", "Lena Berg"], out_dir=drop)
    ben.receive(share.path)
    lena.receive(share.path)
    ben.lock()
    lena.lock()
    maria.revoke(share.id, ["Ben Okafor"])  # no exchange folder: it waits in the outbox

    win = s.window()
    win.open_session(maria)
    fp = win.files_page
    fp.select_names("Garden plan.md")
    s.save(win, "revoke-not-delivered")
    _set_theme(win, "dark")
    fp.select_names("Garden plan.md")
    s.save(win, "revoke-not-delivered-dark")
    _set_theme(win, "system")
    fp.select_names("Garden plan.md")

    dialog = RevokeDialog("Lena Berg", None, s.services, win)
    dialog.show()
    s.save(dialog, "revoke-dialog-no-exchange")
    dialog.close()

    # A file opened in another app and changed there, then Lock.
    path = maria.open_external("/Garden plan.md")
    path.write_text(path.read_text(encoding="utf-8") + "\n- plant the tomatoes\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    prompt = ChangedCopiesDialog(maria.changed_copies(), "lock", win)
    prompt.show()
    s.save(prompt, "changed-copy-prompt")
    prompt.close()

    # Auto-lock cannot ask: it keeps the changed copy and says so.
    s.now[0] += 3600
    win.idle.check()
    s.save(win, "unlock-changed-copy-kept")
    win.close()  # shuts down; the next set's window is the active one


# ----- set "messages" -------------------------------------------------------------------


def _messages_history(s: Studio, maria: Vault) -> None:
    """Some real history: a preview, an export, shares, a revocation, a group, a receive."""
    maria.read_bytes("/Garden plan.md")
    maria.export("/Documents/Taxes 2025/receipts.csv", s.tmp / "receipts.csv")
    maria.rename("/recipes.odt", "Recipes.odt")
    ben, lena, drop = _friends_of(s, maria)
    maria.share(["/Garden plan.md"], to=["Ben Okafor"], out_dir=drop)
    [share] = maria.share(
        ["/Photos/lake-district.png"],
        to=["Lena Berg"],
        out_dir=drop,
        expires=timedelta(days=30),
        receipts=True,
    )
    maria.revoke(share.id, ["Lena Berg"])
    family = maria.create_group("Family")
    maria.add_group_member(family.id, "Ben Okafor", out_dir=drop)
    ben.add_bytes("/", "Trip itinerary.txt", b"Day 1: Bergen\nDay 2: Flam railway\n")
    [incoming] = ben.share(["/Trip itinerary.txt"], to=["Maria Olsen"], out_dir=drop)
    maria.receive(incoming.path)
    ben.lock()
    lena.lock()
    maria.check()


def messages_set(s: Studio) -> None:
    # A fresh vault first: the empty Contacts page.
    maria = s.create_vault("Personal", "Maria Olsen")
    win = s.window()
    win.open_session(maria)
    win.show_section(win.SECTION_CONTACTS)
    s.save(win, "contacts-empty")

    win.show_section(win.SECTION_FILES)
    win.files_page.add_paths([str(p) for p in s.sources()])
    _messages_history(s, maria)
    win.show_section(win.SECTION_ACTIVITY)
    win.activity_page.reload()
    s.save(win, "activity-details")
    win.resize(800, 600)
    s.save(win, "activity-800x600")
    win.resize(*SIZE)

    # The duplicate-add choice, over My files.
    win.show_section(win.SECTION_FILES)
    win.files_page.open_folder("/")
    dialog = DuplicateDialog("Garden plan.md", False, "Garden plan (2).md", 2, win)
    dialog.show()
    s.save(dialog, "duplicate-add")
    dialog.close()
    win.close()  # shuts down; the next set's window is the active one


# ----- set "keeping" --------------------------------------------------------------------


def keeping_set(s: Studio) -> None:
    """Issue 15: a file's versions in the details pane, and the Trash page."""
    maria = s.create_vault("Keeping", "Maria Olsen")
    maria.add_paths([str(p) for p in s.sources()], "/")
    plan = s.tmp / "src" / "Garden plan.md"
    for line in ("- Beans up the trellis\n", "- A bench under the apple tree\n"):
        plan.write_text(plan.read_text(encoding="utf-8") + line, encoding="utf-8")
        maria.store_version("/Garden plan.md", plan)
    maria.delete("/recipes.odt")
    maria.delete("/Documents/Letters")
    win = s.window()
    win.open_session(maria)
    fp = win.files_page
    fp.select_names("Garden plan.md")
    fp.details.versions.select_version(2)
    s.save(win, "files-versions")
    win.show_section(win.SECTION_TRASH)
    win.trash_page.select_names("Letters")
    s.save(win, "trash")
    win.close()


SETS: dict[str, Callable[[Studio], None]] = {
    "main": main_set,
    "safety": safety_set,
    "messages": messages_set,
    "keeping": keeping_set,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists
    app: Any = create_app([])
    app.setFont(QFont("DejaVu Sans", 10))
    for name in SETS if args.set == "all" else [args.set]:
        SETS[name](Studio(app, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
