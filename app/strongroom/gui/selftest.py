"""`strongroom --self-test`: an offscreen smoke test of an installed or frozen Strongroom.

It exercises what a packaging mistake would break: the native libraries (SQLCipher,
Argon2, cryptography), the data files (zxcvbn's word lists, the icons), the Qt plugins
(offscreen platform) and the local-socket module. Everything happens in a temporary
folder that is removed afterwards; nothing touches the user's vaults or settings.

Exit status: 0 when every step passed, 1 with a message naming the failed step.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

__all__ = ["main"]

_PASSPHRASE = "self-test passphrase, not a secret"  # noqa: S105 - a throwaway vault
_PAYLOAD = bytes(range(256)) * 1200 + b"strongroom self-test\n"  # ~300 KB: several chunks


def _cheap_kdf():  # the real cost is irrelevant here; the code path is what is tested
    from strongroom.crypto import kdf

    return kdf.Argon2idParams.new(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1)


def _wait_until(app, condition: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def _second_launch() -> list[str]:
    """The command that starts Strongroom again: the frozen binary, or this Python."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "strongroom"]


def _create_vault(root: Path, name: str, kwargs: dict):
    from strongroom.vault import Vault

    vault, recovery = Vault.create(
        root / f"{name}.strongroom",
        _PASSPHRASE,
        kdf_params=_cheap_kdf(),
        display_name=name,
        **kwargs,
    )
    assert recovery, "no recovery key"
    return vault


def _share_to_second_identity(vault, root: Path, kwargs: dict, step) -> Path:
    """Share the added file to a second vault's identity and receive it there; returns the
    share file. Exercises X25519, Ed25519 and the share format in this build."""
    friend = _create_vault(root, "Friend", kwargs)
    try:
        step("created a second vault with its own identity")
        friend.add_contact(vault.my_card().to_text())
        vault.add_contact(friend.my_card().to_text())
        step("exchanged contact cards (self-signatures verify)")
        out_dir = root / "outbox"
        out_dir.mkdir()
        [share] = vault.share(["/sample.bin"], to=["Friend"], out_dir=out_dir)
        if share.path is None or not share.path.is_file():
            raise AssertionError("sharing wrote no share file")
        step(f"shared the file to the second identity: {share.path.name}")
        received = friend.receive(share.path)
        if (received.sender_name, received.trust) != ("Self-test", "unverified"):
            raise AssertionError(
                f"the share came from {received.sender_name!r} ({received.trust}), "
                "expected the known contact 'Self-test'"
            )
        if friend.read_bytes(received.path) != _PAYLOAD:
            raise AssertionError("the received file differs from the one shared")
        step("received it in the second vault: signed by the known contact, identical bytes")
    finally:
        friend.lock()
    return share.path


def _hand_over(app, share: Path, server_cls) -> None:
    """A real second launch (`strongroom FILE.age`) hands its path to this process."""
    import subprocess

    os.environ["STRONGROOM_INSTANCE"] = f"selftest-{os.getpid()}"
    server = server_cls()
    if not server.listen():
        raise AssertionError(f"could not listen on the local socket {server.name}")
    got: list[list[str]] = []
    server.paths_received.connect(got.append)
    try:
        second = subprocess.Popen([*_second_launch(), str(share)], cwd=share.parent)
        if not _wait_until(app, lambda: bool(got) and second.poll() is not None):
            second.kill()
            raise AssertionError("a second launch did not hand its path over")
        if second.returncode != 0 or got != [[str(share)]]:
            raise AssertionError(f"second launch: exit {second.returncode}, received {got!r}")
    finally:
        server.close()
        del os.environ["STRONGROOM_INSTANCE"]


def _run(root: Path, say: Callable[[str], None]) -> None:
    """The steps, each reported through `say` once it passed. Raises on the first failure."""
    step = say
    from strongroom import __version__
    from strongroom.vault import Vault

    step(f"Strongroom {__version__}, Python {sys.version.split()[0]}, {sys.platform}")
    run_dir, config = root / "run", root / "config"
    run_dir.mkdir()
    config.mkdir()
    kwargs = {"config_dir": config, "temp_root": run_dir}

    vault = _create_vault(root, "Self-test", kwargs)
    step("created a vault (SQLCipher, Argon2id)")
    source = root / "sample.bin"
    source.write_bytes(_PAYLOAD)
    vault.add_paths([source], "/")
    step("added a file")
    vault.lock()
    vault = Vault.open(root / "Self-test.strongroom", _PASSPHRASE, **kwargs)
    out = root / "exported.bin"
    vault.export("/sample.bin", out)
    if out.read_bytes() != _PAYLOAD:
        raise AssertionError("the exported file differs from the one added")
    step("unlocked again and exported the file: identical bytes")
    if not vault.verify_history().ok:
        raise AssertionError("the access history does not verify")
    step("access history verifies")
    share = _share_to_second_identity(vault, root, kwargs, step)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from strongroom.gui import icons
    from strongroom.gui.app import create_app
    from strongroom.gui.main_window import MainWindow
    from strongroom.gui.seams import Services
    from strongroom.gui.single_instance import InstanceServer
    from strongroom.gui.widgets import passphrase_strength

    app = create_app()
    assert isinstance(app, QApplication)
    if icons.app_icon().isNull() or not icons.icon_path("app").is_file():
        raise AssertionError(f"the application icon is missing under {icons.RESOURCES}")
    if passphrase_strength("correct horse battery staple")["score"] < 0:
        raise AssertionError("zxcvbn gave no score")
    step(f"Qt {app.platformName()} platform, icons and passphrase meter load")

    settings = QSettings(str(root / "settings.ini"), QSettings.Format.IniFormat)
    services = Services(
        settings=settings,
        kdf_params=_cheap_kdf,
        config_dir=config,
        temp_root=run_dir,
        home_dir=str(root),
        use_tray=False,
    )
    window = MainWindow(services)
    window.show()
    window.open_session(vault)
    model = window.files_page.model
    if not _wait_until(app, lambda: model.rowCount() == 1):
        raise AssertionError(f"the main window lists {model.rowCount()} files, expected 1")
    step("main window shows the vault and its file")

    try:
        _hand_over(app, share, server_cls=InstanceServer)
    finally:
        window.shutdown()  # locks the vault
        window.close()
        app.processEvents()
    step("a second launch handed the share's path to the running instance")


def main() -> int:
    # Before Qt is imported: no display is needed, and none is touched.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

    def say(text: str) -> None:
        print(f"  ok  {text}", flush=True)

    print("Strongroom self-test", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="strongroom-selftest-") as tmp:
            _run(Path(tmp), say)
    except Exception as exc:
        traceback.print_exc()
        print(f"Self-test FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    print("Self-test passed.", flush=True)
    return 0
