"""Take the README screenshots from the real app: `python -m strongroom.gui.screenshots`.

Builds a demo vault in a temporary folder (cheap Argon2id, so it runs in seconds), drives
the real `MainWindow` through each screen and saves `QWidget.grab()` images into
`docs/screenshots/`. Runs offscreen by default; under Xvfb set QT_QPA_PLATFORM=xcb.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from strongroom.crypto import kdf

from . import tasks
from .app import create_app
from .main_window import MainWindow
from .seams import Dialogs, Services
from .sharing import ShareDialog, VerifyContactDialog

SIZE = (1200, 760)
DEMO_PASSPHRASE = "lantern orbit velvet cactus meadow"  # noqa: S105 (a throwaway demo vault)


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


def _settle(app: QApplication) -> None:
    for _ in range(5):
        app.processEvents()


def _save(widget: QWidget, out: Path, name: str) -> Path:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    _settle(app)
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(f"saved {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path(__file__).resolve().parents[3] / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists
    app = create_app([])
    app.setFont(QFont("DejaVu Sans", 10))
    tasks.set_runner(tasks.SyncTaskRunner())
    tmp = Path(tempfile.mkdtemp(prefix="strongroom-shots-"))
    home = tmp / "home"
    for d in (home, tmp / "config", tmp / "run", tmp / "src"):
        d.mkdir(parents=True)
    services = Services(
        dialogs=_QuietDialogs({"save_file": str(tmp / "history.csv")}),
        settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
        kdf_params=lambda: kdf.Argon2idParams.new(
            memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1
        ),
        config_dir=tmp / "config",
        temp_root=tmp / "run",
        home_dir=str(home),
        use_tray=False,
    )
    sources = build_demo_sources(tmp / "src")
    win = MainWindow(services)
    win.resize(*SIZE)
    win.show()

    # Create: the three steps, with the real strength meter.
    win.show_create()
    cp = win.create_page
    cp.name_edit.setText("Personal")
    _save(win, out, "create-1-location")
    cp.next_button.click()
    cp.display_name_edit.setText("Maria Olsen")
    cp.pass_edit.setText("summer2024")
    cp.repeat_edit.setText("summer2024")
    _save(win, out, "create-2-weak-passphrase")
    cp.pass_edit.setText(DEMO_PASSPHRASE)
    cp.repeat_edit.setText(DEMO_PASSPHRASE)
    cp.next_button.click()
    _save(win, out, "create-3-recovery-key")
    recovery = cp.recovery_key
    cp.stored_check.setChecked(True)
    cp.next_button.click()

    # Files: real adds, a few real actions to give the history something to show.
    fp = win.files_page
    fp.add_paths([str(p) for p in sources])
    vault = win.session.vault  # type: ignore[union-attr]
    vault.read_bytes("/Garden plan.md")
    vault.read_bytes("/Photos/lake-district.png")
    vault.export("/Documents/Taxes 2025/receipts.csv", tmp / "receipts.csv")
    vault.rename("/recipes.odt", "Recipes.odt")

    # A second person (Ben), with real cards exchanged, shares in both directions, a group.
    from strongroom.vault import Vault

    ben, _ = Vault.create(
        tmp / "ben.strongroom",
        DEMO_PASSPHRASE,
        kdf_params=services.kdf_params(),
        display_name="Ben Okafor",
        config_dir=tmp / "config",
        temp_root=tmp / "run",
    )
    lena, _ = Vault.create(
        tmp / "lena.strongroom",
        DEMO_PASSPHRASE,
        kdf_params=services.kdf_params(),
        display_name="Lena Berg",
        config_dir=tmp / "config",
        temp_root=tmp / "run",
    )
    vault.add_contact(ben.my_card().to_text())
    vault.verify_contact("Ben Okafor")
    vault.add_contact(lena.my_card().to_text())
    ben.add_contact(vault.my_card().to_text())
    ben.verify_contact("Maria Olsen")
    lena.add_contact(vault.my_card().to_text())
    drop = tmp / "drop"
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
        ["/Garden plan.md"],
        to=["Ben Okafor"],
        out_dir=drop,
        expires=timedelta(days=30),
        receipts=True,
    )
    family = vault.create_group("Family")
    vault.add_group_member(family.id, "Ben Okafor", out_dir=drop)
    vault.add_group_member(family.id, "Lena Berg", out_dir=drop)
    ben.lock()
    lena.lock()
    fp.refresh()
    fp.select_names("Garden plan.md")
    _save(win, out, "files")
    fp.open_folder("/Photos")
    fp.select_names("lake-district.png")
    _save(win, out, "files-folder")
    sp = win.settings_page
    sp.theme_box.setCurrentIndex(sp.theme_box.findData("dark"))
    fp.open_folder("/")
    fp.select_names("passport-numbers.txt")
    _save(win, out, "files-dark")
    sp.theme_box.setCurrentIndex(sp.theme_box.findData("system"))
    _settle(app)
    fp.open_folder("/")
    fp.search.setText("tax")
    fp._run_search()
    _save(win, out, "files-search")
    fp.search.clear()
    fp._run_search()

    # Previews from memory.
    fp.select_names("Garden plan.md")
    fp.preview_selected()
    _save(win.previews[-1], out, "preview-text")
    win.previews[-1].close()
    fp.open_folder("/Photos")
    fp.select_names("lake-district.png")
    fp.preview_selected()
    win.previews[-1].resize(980, 680)
    _save(win.previews[-1], out, "preview-image")
    win.previews[-1].close()
    fp.open_folder("/")

    # A job in progress in the jobs area (a real add on a worker thread).
    big = tmp / "src" / "Home videos.mkv"
    with big.open("wb") as f:
        f.truncate(1024 * 1024 * 1024)
    tasks.set_runner(tasks.ThreadTaskRunner())
    jobs = win.jobs
    runner = tasks.runner()
    runner.job_started.connect(jobs.add_job)
    job = fp.add_paths([str(big)])
    while not jobs.rows or jobs.rows[0].bar.maximum() != 1000 or jobs.rows[0].bar.value() < 80:
        app.processEvents()
    _save(win, out, "files-adding-with-progress")
    assert job is not None
    job.cancel()
    runner.wait_for_done()
    _settle(app)
    tasks.set_runner(tasks.SyncTaskRunner())
    win.show_status("")

    # Activity, verified.
    win.show_section(win.SECTION_ACTIVITY)
    win.activity_page.verify()
    _save(win, out, "activity")
    win.show_section(win.SECTION_SETTINGS)
    _save(win, out, "settings")
    win.show_section(win.SECTION_SHARED)
    win.shared_page.table.selectRow(0)
    _save(win, out, "shared-with-me")
    win.show_section(win.SECTION_CONTACTS)
    win.contacts_page.select_name("Ben Okafor")
    _save(win, out, "contacts")
    verify = VerifyContactDialog(
        win.contacts_page.my_fingerprint, win.contacts_page.model.contacts()[0], win
    )
    verify.show()
    _save(verify, out, "contact-verify")
    verify.close()
    win.show_section(win.SECTION_GROUPS)
    _save(win, out, "groups")
    win.show_section(win.SECTION_FILES)
    fp.open_folder("/")
    fp.select_names("Garden plan.md")
    _save(win, out, "files-who-has-access")
    share_dialog = ShareDialog(
        [fp.selected_items()[0]],
        vault.contacts(),
        vault.groups(),
        None,
        services,
        win,
    )
    share_dialog.check("Lena Berg")
    share_dialog.expiry.setCurrentIndex(2)
    share_dialog.receipts.setChecked(True)
    share_dialog.show()
    _save(share_dialog, out, "share-dialog")
    share_dialog.close()
    # The same in the dark theme: recipients' check boxes, status colours (issue 12).
    sp.theme_box.setCurrentIndex(sp.theme_box.findData("dark"))
    _settle(app)
    share_dialog = ShareDialog(
        [fp.selected_items()[0]], vault.contacts(), vault.groups(), None, services, win
    )
    share_dialog.check("Lena Berg")
    share_dialog.receipts.setChecked(True)
    share_dialog.show()
    _save(share_dialog, out, "share-dialog-dark")
    share_dialog.close()
    sp.theme_box.setCurrentIndex(sp.theme_box.findData("system"))
    win.activateWindow()  # focus (and its ring) is back in the main window
    _settle(app)
    win.show_section(win.SECTION_FILES)

    # Lock, wrong passphrase, recovery path, welcome with a recent vault.
    win.lock()
    up = win.unlock_page
    _save(win, out, "unlock")
    up.pass_edit.setText("summer2024")
    up.unlock()
    _save(win, out, "unlock-wrong-passphrase")
    up.set_recovery_mode(True)
    up.key_edit.setText(recovery)
    up.new_pass_edit.setText("meadow copper lantern violet")
    _save(win, out, "unlock-recovery-key")
    win.show_welcome()
    _save(win, out, "welcome")
    win.shutdown()

    return 0


if __name__ == "__main__":
    sys.exit(main())
