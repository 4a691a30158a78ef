"""One instance per user: a second `strongroom PATH` hands its paths over and exits 0."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket

from gui_helpers import *  # noqa: F403
from strongroom.__main__ import _gui_paths
from strongroom.gui import single_instance as si
from strongroom.gui.app import PathOpener

ROOT = Path(__file__).resolve().parents[1]
SECRET = b"the plans, in plain text\n"


@pytest.fixture
def instance_name(monkeypatch, tmp_path):
    """A server name of this test's own, shared with the subprocesses it starts."""
    monkeypatch.setenv(si.ENV_INSTANCE, f"test-{os.getpid()}-{tmp_path.name}")
    return si.server_name()


@pytest.fixture
def server(qtbot, instance_name):
    srv = si.InstanceServer()
    assert srv.name == instance_name
    assert srv.listen(), srv.name
    received: list[list[str]] = []
    srv.paths_received.connect(received.append)
    srv.received = received
    yield srv
    srv.close()


def _second_launch(*args: str, cwd: Path) -> subprocess.Popen:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "app"), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-m", "strongroom", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(qtbot, proc: subprocess.Popen, done) -> None:
    """Run the event loop until the second launch exited and `done()` holds.

    The second process waits for our acknowledgement, so this loop must keep running.
    """
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None and done(), timeout=30_000)
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate()
    assert proc.returncode == 0, err.decode()


def test_second_launch_hands_a_share_to_the_running_instance(qtbot, server, tmp_path):
    share = tmp_path / "from alice.age"
    share.write_bytes(b"age-encryption.org/v1\n")
    started = time.monotonic()
    proc = _second_launch("from alice.age", cwd=tmp_path)  # relative: made absolute
    _wait_for(qtbot, proc, lambda: bool(server.received))
    elapsed = time.monotonic() - started
    assert server.received == [[str(share)]]
    assert elapsed < 15, f"the second launch took {elapsed:.1f} s"


def test_second_launch_without_paths_just_wakes_the_running_instance(qtbot, server, tmp_path):
    _wait_for(qtbot, _second_launch(cwd=tmp_path), lambda: bool(server.received))
    assert server.received == [[]]


def test_a_real_share_handed_over_is_received_into_the_running_vault(
    qtbot, window, services, server, tmp_path
):
    """`strongroom plans.txt.age` while Strongroom runs with Ben's vault unlocked: the
    share Ann made for Ben ends up in Ben's Shared with me, through the GUI."""
    ben, _ = make_vault(services, "Ben", display_name="Ben")  # noqa: F405
    ann, _ = make_vault(services, "Ann", display_name="Ann")  # noqa: F405
    ann.add_contact(ben.my_card().to_text())
    ben.add_contact(ann.my_card().to_text())
    ann.add_bytes("/", "plans.txt", SECRET)
    [share] = ann.share(["/plans.txt"], to=["Ben"], out_dir=tmp_path)
    ann.lock()
    window.open_session(ben)
    server.paths_received.connect(PathOpener(window).open_paths)  # as `run` wires them
    proc = _second_launch(share.path.name, cwd=tmp_path)
    _wait_for(qtbot, proc, lambda: len(ben.shared_with_me()) == 1)
    [got] = ben.shared_with_me()
    assert (got.name, got.sender_name, got.trust) == ("plans.txt", "Ann", "unverified")
    assert ben.read_bytes(got.path) == SECRET
    assert window.sections.currentWidget() is window.shared_page
    assert services.dialogs.asked == []  # nothing to explain: it was received


def test_nobody_listening_means_not_delivered(instance_name):
    assert si.send_to_running(["/tmp/x.age"]) is False


@pytest.mark.skipif(sys.platform == "win32", reason="Unix socket files only")
def test_stale_socket_of_a_crashed_instance_is_replaced(qtbot, instance_name):
    path = si._socket_file(instance_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(str(path))  # bound, never listening, never unlinked: what a crash leaves
    crashed.close()
    assert path.exists()
    srv = si.InstanceServer()
    try:
        assert srv.listen()
        got: list[list[str]] = []
        srv.paths_received.connect(got.append)
        sock = QLocalSocket()
        sock.connectToServer(instance_name)
        sock.write(si.encode_message(["/a.age"]))
        qtbot.waitUntil(lambda: got == [["/a.age"]], timeout=10_000)
    finally:
        srv.close()


def test_a_live_instance_is_not_taken_over(server):
    second = si.InstanceServer()
    assert second.listen() is False
    assert server.is_listening()


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xff\xff\xff",  # announces a message far over the bound
        *(
            si._HEADER.pack(len(body)) + body
            for body in (b"nojsn", b'{"v": 99}', b'{"v":1,"paths":[1,2,3]}')
        ),
        si._HEADER.pack(3) + b"{}" + b"way past the announced length",
    ],
)
def test_malformed_messages_are_dropped(qtbot, server, payload):
    sock = QLocalSocket()
    sock.connectToServer(server.name)
    sock.write(payload)
    qtbot.waitUntil(
        lambda: sock.state() == QLocalSocket.LocalSocketState.UnconnectedState, timeout=10_000
    )
    assert server.received == []
    assert sock.bytesAvailable() == 0  # no acknowledgement


def test_message_bounds():
    with pytest.raises(ValueError):
        si.encode_message(["/x"] * (si.MAX_PATHS + 1))
    with pytest.raises(ValueError):
        si.encode_message(["/" + "x" * si.MAX_MESSAGE])
    body = si.encode_message(["/ü/a b.age"])[4:]
    assert si.decode_message(body) == ["/ü/a b.age"]
    for bad in (b'{"v":1,"paths":["a\\u0000b"]}', b'{"v":1,"paths":[""]}', b"[]"):
        with pytest.raises(ValueError):
            si.decode_message(bad)


def test_server_name_is_per_user(monkeypatch):
    monkeypatch.delenv(si.ENV_INSTANCE, raising=False)
    name = os.path.basename(si.server_name())
    if hasattr(os, "getuid"):
        assert name.startswith(f"strongroom-{os.getuid()}-")
    monkeypatch.setenv(si.ENV_INSTANCE, "a/b c")
    assert os.path.basename(si.server_name()) == name + "-a_b_c"


# ---- routing of the command line -------------------------------------------------------


def test_command_line_routing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ls").write_text("a file named like a command")
    (tmp_path / "notes.txt").write_text("x")
    assert _gui_paths(["ls"]) is None  # the CLI command wins
    assert _gui_paths(["--version"]) is None
    assert _gui_paths(["info", "--vault", "x"]) is None
    assert _gui_paths(["missing.age"]) == ["missing.age"]  # the GUI says it is missing
    assert _gui_paths(["notes.txt", "v.strongroom"]) == ["notes.txt", "v.strongroom"]
    assert _gui_paths(["file:///tmp/a%20b.age"]) == ["/tmp/a b.age"]
    assert _gui_paths(["nonsense"]) is None  # the CLI reports an unknown command


def test_version_flag():
    out = subprocess.run(
        [sys.executable, "-m", "strongroom", "--version"],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "app")),
    )
    from strongroom import __version__

    assert out.stdout.strip() == f"strongroom {__version__}"


# ---- what the running instance does with the paths -----------------------------------


def test_open_paths_shows_the_unlock_screen_for_a_vault(window, services):
    vault, _ = make_vault(services, "Travel")  # noqa: F405
    path = vault.path
    vault.lock()
    opener = PathOpener(window)
    opener.open_paths([str(path / "vault.strongroom")])
    assert window.stack.currentWidget() is window.unlock_page
    assert window.unlock_page.vault_path == path
    assert services.dialogs.asked == []


def test_a_share_with_no_vault_unlocked_waits_for_one(window, services, tmp_path):
    share = tmp_path / "report.pdf.age"
    share.write_bytes(b"age-encryption.org/v1\n")
    armored = tmp_path / "armored"
    armored.write_bytes(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    PathOpener(window).open_paths([str(share), str(armored)])
    assert window.pending_shares == [share, armored]  # received by the next open_session
    (kind, (_title, text)) = services.dialogs.asked[-1]
    assert kind == "inform"
    assert "report.pdf.age, armored will be received" in text
    assert "once a vault is unlocked" in text


def test_open_paths_reports_missing_and_foreign_files(window, services, tmp_path):
    other = tmp_path / "photo.jpg"
    other.write_bytes(b"\xff\xd8")
    PathOpener(window).open_paths([str(tmp_path / "gone.age"), str(other)])
    (_kind, (_title, text)) = services.dialogs.asked[-1]
    assert "gone.age was not found" in text
    assert "photo.jpg is neither a Strongroom vault nor a shared file" in text


def test_macos_file_open_event_goes_through_the_same_path(window, services, tmp_path):
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    share = tmp_path / "b.age"
    share.write_bytes(b"age-encryption.org/v1\n")
    opener = PathOpener(window)
    assert opener.eventFilter(QApplication.instance(), QFileOpenEvent(str(share))) is True
    assert window.pending_shares == [share]
