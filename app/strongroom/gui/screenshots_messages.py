"""Screenshots of messages people act on (issue 12, items 9-12):
`python -m strongroom.gui.screenshots_messages [OUT_DIR]`.

Activity with its details as sentences, the empty Contacts page, the duplicate-add choice
and Activity at 800x600. Same set-up as `screenshots.py` (real window, demo vault, cheap
Argon2id), saved into `docs/screenshots/`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFont

from strongroom.crypto import kdf

from . import tasks
from .app import create_app
from .duplicates import DuplicateDialog
from .main_window import MainWindow
from .screenshots import DEMO_PASSPHRASE, SIZE, _QuietDialogs, _save, build_demo_sources
from .seams import Services


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
        dialogs=_QuietDialogs({}),
        settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
        kdf_params=lambda: kdf.Argon2idParams.new(
            memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1
        ),
        config_dir=tmp / "config",
        temp_root=tmp / "run",
        home_dir=str(home),
        use_tray=False,
    )
    from strongroom.vault import Vault

    def create(name: str, display: str) -> Vault:
        vault, _ = Vault.create(
            tmp / f"{name}.strongroom",
            DEMO_PASSPHRASE,
            kdf_params=services.kdf_params(),
            display_name=display,
            config_dir=tmp / "config",
            temp_root=tmp / "run",
        )
        return vault

    # A fresh vault first: the empty Contacts page.
    maria = create("Personal", "Maria Olsen")
    win = MainWindow(services)
    win.resize(*SIZE)
    win.show()
    win.open_session(maria)
    win.show_section(win.SECTION_CONTACTS)
    _save(win, out, "contacts-empty")

    # Some real history: adds, a preview, an export, shares, a revocation, a group.
    win.show_section(win.SECTION_FILES)
    sources = build_demo_sources(tmp / "src")
    win.files_page.add_paths([str(p) for p in sources])
    maria.read_bytes("/Garden plan.md")
    maria.export("/Documents/Taxes 2025/receipts.csv", tmp / "receipts.csv")
    maria.rename("/recipes.odt", "Recipes.odt")
    ben, lena = create("ben", "Ben Okafor"), create("lena", "Lena Berg")
    for other in (ben, lena):
        maria.add_contact(other.my_card().to_text())
        other.add_contact(maria.my_card().to_text())
    maria.verify_contact("Ben Okafor")
    drop = tmp / "drop"
    drop.mkdir()
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
    win.show_section(win.SECTION_ACTIVITY)
    win.activity_page.reload()
    _save(win, out, "activity-details")
    win.resize(800, 600)
    _save(win, out, "activity-800x600")
    win.resize(*SIZE)

    # The duplicate-add choice, over My files.
    win.show_section(win.SECTION_FILES)
    win.files_page.open_folder("/")
    dialog = DuplicateDialog("Garden plan.md", False, "Garden plan (2).md", 2, win)
    dialog.show()
    _save(dialog, out, "duplicate-add")
    dialog.close()
    win.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
