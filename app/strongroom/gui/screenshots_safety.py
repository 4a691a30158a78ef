"""Screenshots of the safety prompts (issue 12): `python -m strongroom.gui.screenshots_safety`.

A revocation not delivered yet (Who has access and the Access column), the revoke dialog
with no exchange folder, the changed-copy question at lock, and the unlock screen after an
auto-lock kept a changed copy. Same set-up as `screenshots.py` (real window, demo vault,
cheap Argon2id), saved into `docs/screenshots/`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFont

from strongroom.crypto import kdf

from . import tasks
from .app import create_app
from .changed_copies import ChangedCopiesDialog
from .main_window import MainWindow
from .screenshots import DEMO_PASSPHRASE, SIZE, _QuietDialogs, _save, build_demo_sources
from .seams import Services
from .sharing import RevokeDialog


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
    clock_now = [1000.0]
    services = Services(
        dialogs=_QuietDialogs({}),
        settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
        clock=lambda: clock_now[0],
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

    maria, ben, lena = (
        create("Personal", "Maria Olsen"),
        create("ben", "Ben Okafor"),
        create("lena", "Lena Berg"),
    )
    maria.add_paths([str(p) for p in build_demo_sources(tmp / "src")], "/")
    for other in (ben, lena):
        maria.add_contact(other.my_card().to_text())
        other.add_contact(maria.my_card().to_text())
    maria.verify_contact("Ben Okafor")
    drop = tmp / "drop"
    drop.mkdir()
    [share] = maria.share(["/Garden plan.md"], to=["Ben Okafor", "Lena Berg"], out_dir=drop)
    ben.receive(share.path)
    lena.receive(share.path)
    ben.lock()
    lena.lock()
    maria.revoke(share.id, ["Ben Okafor"])  # no exchange folder: it waits in the outbox

    win = MainWindow(services)
    win.resize(*SIZE)
    win.show()
    win.open_session(maria)
    fp = win.files_page
    fp.select_names("Garden plan.md")
    _save(win, out, "revoke-not-delivered")
    sp = win.settings_page
    sp.theme_box.setCurrentIndex(sp.theme_box.findData("dark"))
    fp.select_names("Garden plan.md")
    _save(win, out, "revoke-not-delivered-dark")
    sp.theme_box.setCurrentIndex(sp.theme_box.findData("system"))
    fp.select_names("Garden plan.md")

    dialog = RevokeDialog("Lena Berg", None, services, win)
    dialog.show()
    _save(dialog, out, "revoke-dialog-no-exchange")
    dialog.close()

    # A file opened in another app and changed there, then Lock.
    path = maria.open_external("/Garden plan.md")
    path.write_text(path.read_text(encoding="utf-8") + "\n- plant the tomatoes\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    prompt = ChangedCopiesDialog(maria.changed_copies(), "lock", win)
    prompt.show()
    _save(prompt, out, "changed-copy-prompt")
    prompt.close()

    # Auto-lock cannot ask: it keeps the changed copy and says so.
    clock_now[0] += 3600
    win.idle.check()
    _save(win, out, "unlock-changed-copy-kept")
    win.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
