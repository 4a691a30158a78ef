"""One Strongroom per user: a second launch hands its paths to the running one and exits.

The first instance listens on a per-user `QLocalServer`. A later `strongroom [PATH...]`
connects, sends its paths as one length-prefixed JSON message, waits for a one-byte
acknowledgement and exits 0; the running instance emits `paths_received` on the GUI thread
(an empty list means "just show the window").

Wire format (protocol 1): a 4-byte big-endian length, then that many bytes of UTF-8 JSON
`{"v": 1, "paths": [absolute path, ...]}`; the server answers `b"\\x01"`. Messages are
bounded (`MAX_MESSAGE`, `MAX_PATHS`) because anything running as the user can connect.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import stat
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QDir, QObject, QTimer, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

__all__ = [
    "ENV_INSTANCE",
    "MAX_MESSAGE",
    "MAX_PATHS",
    "InstanceNotResponding",
    "InstanceServer",
    "decode_message",
    "encode_message",
    "send_to_running",
    "server_name",
]

PROTOCOL = 1
MAX_MESSAGE = 64 * 1024  # a file manager's multi-selection fits easily; a stray client cannot
MAX_PATHS = 256  # make the first instance buffer or open without limit
ACK = b"\x01"
ENV_INSTANCE = "STRONGROOM_INSTANCE"  # a separate instance name (tests, a second profile)
CONNECT_TIMEOUT_MS = 1000
ACK_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 5000
_HEADER = struct.Struct(">I")


class InstanceNotResponding(Exception):
    """An instance holds the server name but did not acknowledge the paths in time."""


def _user_tag() -> tuple[str, str]:
    uid = str(os.getuid()) if hasattr(os, "getuid") else ""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no $USER (containers)
        user = ""
    return uid, hashlib.sha256(f"{uid}:{user}".encode()).hexdigest()[:12]


def server_name() -> str:
    """The per-user server name, as a path in `$XDG_RUNTIME_DIR` when there is one.

    The uid and a hash of the user name keep users apart on a shared machine; the runtime
    directory (mode 0700, owned by the user) keeps other users from even seeing the socket.
    `$STRONGROOM_INSTANCE` selects a separate instance (used by the tests).
    """
    uid, tag = _user_tag()
    name = f"strongroom-{uid}-{tag}" if uid else f"strongroom-{tag}"
    extra = os.environ.get(ENV_INSTANCE, "")
    if extra:
        name += "-" + re.sub(r"[^A-Za-z0-9_.-]", "_", extra)[:40]
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if sys.platform.startswith("linux") and runtime and _owned_private_dir(runtime):
        return os.path.join(runtime, name)
    return name


def _owned_private_dir(path: str) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and (st.st_mode & 0o077) == 0


def _socket_file(name: str) -> Path | None:
    """Where QLocalServer puts a Unix socket for `name` (None on Windows: a named pipe)."""
    if sys.platform == "win32":
        return None
    return Path(name) if os.path.isabs(name) else Path(QDir.tempPath()) / name


def _owned_by_someone_else(name: str) -> bool:
    # A socket in a shared /tmp could have been planted by another user to collect the
    # paths we send; only talk to a socket file that belongs to us.
    path = _socket_file(name)
    if path is None:
        return False
    try:
        return path.lstat().st_uid != os.getuid()
    except OSError:
        return False


def encode_message(paths: Sequence[str]) -> bytes:
    """The length-prefixed message for `paths`; ValueError when over the bounds."""
    if len(paths) > MAX_PATHS:
        raise ValueError(f"too many paths ({len(paths)}; at most {MAX_PATHS})")
    body = json.dumps({"v": PROTOCOL, "paths": list(paths)}, ensure_ascii=False).encode()
    if len(body) > MAX_MESSAGE:
        raise ValueError(f"paths too long ({len(body)} bytes; at most {MAX_MESSAGE})")
    return _HEADER.pack(len(body)) + body


def decode_message(body: bytes) -> list[str]:
    """The paths in a message body (without its length prefix); ValueError if malformed."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not a Strongroom instance message") from exc
    if not isinstance(data, dict) or data.get("v") != PROTOCOL:
        raise ValueError("unknown instance protocol")
    paths = data.get("paths")
    if (
        not isinstance(paths, list)
        or len(paths) > MAX_PATHS
        or not all(isinstance(p, str) and p and "\x00" not in p for p in paths)
    ):
        raise ValueError("malformed path list")
    return paths


def send_to_running(
    paths: Sequence[str], name: str | None = None, *, timeout_ms: int = ACK_TIMEOUT_MS
) -> bool:
    """Hand `paths` (made absolute here) to a running instance.

    Returns True once the running instance acknowledged them, False when none is running.
    Raises InstanceNotResponding when one holds the name but does not answer, and
    ValueError when the paths exceed the message bounds. Needs no QCoreApplication.
    """
    name = name or server_name()
    message = encode_message([os.path.abspath(p) for p in paths])
    if _owned_by_someone_else(name):
        raise InstanceNotResponding(f"the instance socket {name} belongs to another user")
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(CONNECT_TIMEOUT_MS):
        return False  # nobody listening (or a stale socket file from a crash)
    try:
        sock.write(message)
        if not sock.waitForBytesWritten(timeout_ms):
            raise InstanceNotResponding("Strongroom is running but did not take the paths")
        while sock.bytesAvailable() < 1:
            if not sock.waitForReadyRead(timeout_ms):
                raise InstanceNotResponding("Strongroom is running but did not answer")
        if bytes(sock.read(1).data()) != ACK:
            raise InstanceNotResponding("Strongroom is running but refused the paths")
        return True
    finally:
        sock.abort()


class InstanceServer(QObject):
    """The first instance's end: listens, validates each message, emits its paths."""

    paths_received = Signal(list)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        # Owner-only socket permissions where the platform supports them.
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytearray] = {}

    def listen(self) -> bool:
        """Start listening; replaces a stale socket left by a crashed instance.

        Returns False when another live instance already holds the name.
        """
        # Ask first: with owner-only permissions Qt binds under a temporary name and renames
        # it into place, which would silently replace a live instance's socket.
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        alive = probe.waitForConnected(CONNECT_TIMEOUT_MS)
        probe.abort()
        if alive or _owned_by_someone_else(self.name):
            return False
        if self._server.listen(self.name):
            return True
        if self._server.serverError() != QLocalSocket.LocalSocketError.AddressInUseError:
            return False
        QLocalServer.removeServer(self.name)  # the previous instance crashed
        return self._server.listen(self.name)

    def is_listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        for sock in list(self._buffers):
            sock.abort()
        self._buffers.clear()
        self._server.close()

    @Slot()
    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            self._buffers[sock] = bytearray()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._drop(s))
            # A client that connects and never finishes its message is cut off.
            QTimer.singleShot(READ_TIMEOUT_MS, sock, lambda s=sock: self._drop(s))
            self._read(sock)

    def _read(self, sock: QLocalSocket) -> None:
        buf = self._buffers.get(sock)
        if buf is None:
            return
        buf += bytes(sock.readAll().data())
        if len(buf) < _HEADER.size:
            return
        (size,) = _HEADER.unpack_from(buf)
        if size > MAX_MESSAGE or len(buf) > _HEADER.size + size:
            self._drop(sock)
            return
        if len(buf) < _HEADER.size + size:
            return
        try:
            paths = decode_message(bytes(buf[_HEADER.size :]))
        except ValueError:
            self._drop(sock)
            return
        del self._buffers[sock]
        sock.write(ACK)
        sock.flush()
        sock.disconnectFromServer()
        self.paths_received.emit(paths)

    def _drop(self, sock: QLocalSocket) -> None:
        if self._buffers.pop(sock, None) is not None:
            sock.abort()
        sock.deleteLater()
