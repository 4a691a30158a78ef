"""A FUSE file system for the tests that can lose power, in the spirit of LazyFS and
CrashMonkey: it keeps everything in memory, remembers what has been made durable by fsync,
and on command throws away everything that has not.

It runs in a process of its own, forked by `CrashFS` (or ``python crashfs.py SEED MNT``):
it mounts an in-memory tree seeded from a real directory (everything in the seed counts as
durable), serves one request at a time, and obeys one-line commands on stdin, answering on
stdout. Without a writeback cache every write(2) reaches it as it happens.

The durability model (strict POSIX, harsher than ext4 in one respect, said below):

- **File contents and size** change in memory at every write/truncate, and become durable
  only when that file is fsynced (``fsync`` or ``fdatasync`` on any descriptor of it): the
  durable contents are then exactly the contents at that moment. A power cut restores every
  file to its last durable contents — all un-fsynced writes are lost, none half-kept
  (LazyFS's "lose all unsynced data"; a real disk may also keep some of the pages, or tear
  one, which this model does not try). A file created and never fsynced is empty.
- **Names** (create, mkdir, rename, unlink, rmdir, link, symlink) change a directory in
  memory, and become durable only when *that directory* is fsynced: its durable entries
  become its current entries, all at once. So a rename is atomic across a cut (old name or
  new), a new file survives only if its directory was fsynced after its creation, a rename
  between two directories needs both fsynced (otherwise the file can be in both, or in
  neither, after the cut), and a new directory survives only if its parent was fsynced.
  fsync of a file does *not* make its name durable. ext4 (data=ordered) in practice also
  commits the file's directory entry when a new file is fsynced, since one journal
  transaction carries both; POSIX does not promise it, and the vault's design fsyncs the
  directory after every rename or creation it depends on, so the strict rule is the one to
  test against. (LazyFS keeps un-fsynced *data* in its own page cache but passes names
  straight to the file system below, so it never loses a name; CrashMonkey records
  directory operations too and, like this model, can lose them.)
- **Modes, owners and times** are not modelled (they follow the inode, as if durable).
- **mmap**: files are not opened with direct_io, so shared writable mmap works through the
  kernel page cache, whose dirty pages reach this file system as ordinary writes. SQLite's
  WAL index (``*-shm``) is mapped that way. It is not durable state: SQLite never fsyncs
  it, so after a cut it holds its last durable contents like any file, and the first
  connection to open the database rebuilds it from the WAL. Its requests are not counted
  as crash points (the kernel flushes its pages when it likes), which keeps the numbering
  of crash points the same from one run to the next.

Crash points: every mutating request — write, truncate, create, mkdir, unlink, rmdir,
rename, link, symlink, fsync, fsyncdir — is numbered from 1 as it arrives (``log`` lists
them). With ``arm N`` the N-th one from now is not carried out: the file system *freezes*
(that request and every later one wait), prints ``frozen N OP PATH``, and waits for ``cut
DIR``. The driver kills the process using the file system (SIGKILL, while its request is
still unanswered, so it never learns the result), then sends ``cut DIR``: the durable state
is written to the real directory DIR, and from then on every request fails with EIO until
the file system is unmounted. ``fail N ERRNO`` instead makes the N-th one from now fail
with that errno, and everything else goes on (the I/O error tests).

Commands: ``arm N`` / ``fail N ERRNO`` / ``count`` (prints ``count K``: mutating requests
since start) / ``log`` (their list, as JSON) / ``dump DIR`` (the current, not only durable,
state into DIR) / ``cut DIR``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import queue
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

COUNTED = frozenset(
    {
        "write",
        "truncate",
        "create",
        "mkdir",
        "unlink",
        "rmdir",
        "rename",
        "link",
        "symlink",
        "fsync",
        "fsyncdir",
    }
)


@dataclass
class Node:
    ino: int
    mode: int
    data: bytearray = field(default_factory=bytearray)  # files; symlink target
    durable: bytes = b""
    entries: dict[str, int] = field(default_factory=dict)  # directories
    durable_entries: dict[str, int] = field(default_factory=dict)
    mtime: int = 0

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


class State:
    """The in-memory tree: current and durable views of every file and directory."""

    def __init__(self) -> None:
        self.nodes: dict[int, Node] = {}
        self.next_ino = 1
        self.root = self.new(stat.S_IFDIR | 0o755).ino

    def new(self, mode: int) -> Node:
        node = Node(self.next_ino, mode, mtime=time.time_ns())
        self.nodes[node.ino] = node
        self.next_ino += 1
        return node

    def seed(self, folder: Path) -> None:
        """Load a real directory tree; all of it durable."""

        def load(path: Path, node: Node) -> None:
            for child in sorted(path.iterdir()):
                st = child.lstat()
                if stat.S_ISDIR(st.st_mode):
                    sub = self.new(stat.S_IFDIR | stat.S_IMODE(st.st_mode))
                    load(child, sub)
                elif stat.S_ISLNK(st.st_mode):
                    sub = self.new(stat.S_IFLNK | 0o777)
                    sub.data = bytearray(os.readlink(child).encode())
                    sub.durable = bytes(sub.data)
                elif stat.S_ISREG(st.st_mode):
                    sub = self.new(stat.S_IFREG | stat.S_IMODE(st.st_mode))
                    sub.data = bytearray(child.read_bytes())
                    sub.durable = bytes(sub.data)
                else:
                    continue
                node.entries[child.name] = sub.ino
            node.durable_entries = dict(node.entries)

        load(folder, self.nodes[self.root])

    def write_out(self, target: Path, *, durable: bool) -> None:
        """Write the durable (what survives a power cut) or current tree into `target`."""
        target.mkdir(parents=True, exist_ok=True)
        written: dict[int, Path] = {}

        def out(node: Node, path: Path, depth: int) -> None:
            if depth > 64:
                return  # a directory moved into itself across views: stop
            entries = node.durable_entries if durable else node.entries
            for name, ino in sorted(entries.items()):
                child = self.nodes[ino]
                dest = path / name
                if child.is_dir:
                    dest.mkdir(mode=0o700)
                    out(child, dest, depth + 1)
                    os.chmod(dest, stat.S_IMODE(child.mode))
                elif stat.S_ISLNK(child.mode):
                    os.symlink(bytes(child.durable if durable else child.data), dest)
                elif ino in written:
                    os.link(written[ino], dest)
                else:
                    dest.write_bytes(child.durable if durable else bytes(child.data))
                    os.chmod(dest, stat.S_IMODE(child.mode))
                    written[ino] = dest

        out(self.nodes[self.root], target, 0)


def _ops_class():
    import mfusepy
    from mfusepy import FuseOSError

    class CrashOps(mfusepy.Operations):
        use_ns = True

        def __init__(self, state: State) -> None:
            self.s = state
            self.mu = threading.RLock()
            self.fhs: dict[int, int] = {}
            self.next_fh = 1
            self.count = 0
            self.log: list[str] = []  # "OP PATH" of every counted request
            self.freeze_at = 0
            self.fail_at = 0
            self.fail_errno = 0
            self.dead = False
            self.cut_done = threading.Event()

        # ----- crash points ------------------------------------------------------------

        def point(self, op: str, path: str | None) -> None:
            """Called before every request; numbers the mutating ones and freezes/fails."""
            if self.dead:
                raise FuseOSError(errno.EIO)
            if op not in COUNTED or (path or "").endswith("-shm"):
                return
            self.count += 1
            self.log.append(f"{op} {path}")
            if self.count == self.fail_at:
                raise FuseOSError(self.fail_errno)
            if self.count == self.freeze_at:
                say(f"frozen {self.count} {op} {path}")
                self.cut_done.wait()
                raise FuseOSError(errno.EIO)

        # ----- lookups -----------------------------------------------------------------

        def node_at(self, path: str) -> Node:
            node = self.s.nodes[self.s.root]
            for part in [p for p in path.split("/") if p]:
                if not node.is_dir:
                    raise FuseOSError(errno.ENOTDIR)
                ino = node.entries.get(part)
                if ino is None:
                    raise FuseOSError(errno.ENOENT)
                node = self.s.nodes[ino]
            return node

        def node_of(self, path: str | None, fh: int | None) -> Node:
            if fh and fh in self.fhs:
                return self.s.nodes[self.fhs[fh]]
            if path is None:
                raise FuseOSError(errno.EBADF)
            return self.node_at(path)

        def parent_of(self, path: str) -> tuple[Node, str]:
            head, _, name = path.rstrip("/").rpartition("/")
            parent = self.node_at(head or "/")
            if not parent.is_dir:
                raise FuseOSError(errno.ENOTDIR)
            return parent, name

        def new_fh(self, ino: int) -> int:
            fh = self.next_fh
            self.next_fh += 1
            self.fhs[fh] = ino
            return fh

        # ----- requests ----------------------------------------------------------------

        def getattr(self, path, fh=None):
            with self.mu:
                self.point("getattr", path)
                node = self.node_of(path, fh)
                size = len(node.data)
                nlink = 2 if node.is_dir else 1
                return {
                    "st_mode": node.mode,
                    "st_ino": node.ino,
                    "st_nlink": nlink,
                    "st_size": size,
                    "st_blocks": (size + 511) // 512,
                    "st_uid": os.getuid(),
                    "st_gid": os.getgid(),
                    "st_atime": node.mtime,
                    "st_mtime": node.mtime,
                    "st_ctime": node.mtime,
                }

        def access(self, path, amode):
            with self.mu:
                self.point("access", path)
                self.node_at(path)
                return 0

        def readdir(self, path, fh):
            with self.mu:
                self.point("readdir", path)
                node = self.node_of(path, fh)
                # With use_ino the entries need their inode numbers: readdir(3) hides
                # entries whose d_ino is 0.
                listing = [(".", node), ("..", node)]
                listing += [(name, self.s.nodes[ino]) for name, ino in node.entries.items()]
                return [(n, {"st_mode": e.mode, "st_ino": e.ino}, 0) for n, e in listing]

        def opendir(self, path):
            with self.mu:
                self.point("opendir", path)
                node = self.node_at(path)
                if not node.is_dir:
                    raise FuseOSError(errno.ENOTDIR)
                return self.new_fh(node.ino)

        def releasedir(self, path, fh):
            with self.mu:
                self.fhs.pop(fh, None)
                return 0

        def fsyncdir(self, path, datasync, fh):
            with self.mu:
                self.point("fsyncdir", path)
                node = self.node_of(path, fh)
                node.durable_entries = dict(node.entries)
                return 0

        def mkdir(self, path, mode):
            with self.mu:
                self.point("mkdir", path)
                parent, name = self.parent_of(path)
                if name in parent.entries:
                    raise FuseOSError(errno.EEXIST)
                parent.entries[name] = self.s.new(stat.S_IFDIR | (mode & 0o7777)).ino
                return 0

        def rmdir(self, path):
            with self.mu:
                self.point("rmdir", path)
                parent, name = self.parent_of(path)
                node = self.node_at(path)
                if not node.is_dir:
                    raise FuseOSError(errno.ENOTDIR)
                if node.entries:
                    raise FuseOSError(errno.ENOTEMPTY)
                del parent.entries[name]
                return 0

        def create(self, path, mode, fi=None):
            with self.mu:
                self.point("create", path)
                parent, name = self.parent_of(path)
                if name in parent.entries:
                    node = self.s.nodes[parent.entries[name]]
                else:
                    node = self.s.new(stat.S_IFREG | (mode & 0o7777))
                    parent.entries[name] = node.ino
                return self.new_fh(node.ino)

        def open(self, path, flags):
            with self.mu:
                self.point("open", path)
                node = self.node_at(path)
                return self.new_fh(node.ino)

        def release(self, path, fh):
            with self.mu:
                self.fhs.pop(fh, None)
                return 0

        def flush(self, path, fh):
            return 0

        def read(self, path, size, offset, fh):
            with self.mu:
                self.point("read", path)
                node = self.node_of(path, fh)
                return bytes(node.data[offset : offset + size])

        def write(self, path, data, offset, fh):
            with self.mu:
                self.point("write", path)
                node = self.node_of(path, fh)
                if offset > len(node.data):
                    node.data.extend(bytes(offset - len(node.data)))
                node.data[offset : offset + len(data)] = data
                node.mtime = time.time_ns()
                return len(data)

        def truncate(self, path, length, fh=None):
            with self.mu:
                self.point("truncate", path)
                node = self.node_of(path, fh)
                if length < len(node.data):
                    del node.data[length:]
                else:
                    node.data.extend(bytes(length - len(node.data)))
                node.mtime = time.time_ns()
                return 0

        def fsync(self, path, datasync, fh):
            with self.mu:
                self.point("fsync", path)
                node = self.node_of(path, fh)
                node.durable = bytes(node.data)
                return 0

        def unlink(self, path):
            with self.mu:
                self.point("unlink", path)
                parent, name = self.parent_of(path)
                node = self.node_at(path)
                if node.is_dir:
                    raise FuseOSError(errno.EISDIR)
                del parent.entries[name]
                return 0

        def rename(self, old, new):
            with self.mu:
                self.point("rename", old)
                src, sname = self.parent_of(old)
                dst, dname = self.parent_of(new)
                node = self.node_at(old)
                if dname in dst.entries:
                    target = self.s.nodes[dst.entries[dname]]
                    if target.is_dir and target.entries:
                        raise FuseOSError(errno.ENOTEMPTY)
                    if target.is_dir != node.is_dir:
                        raise FuseOSError(errno.EISDIR if target.is_dir else errno.ENOTDIR)
                del src.entries[sname]
                dst.entries[dname] = node.ino
                return 0

        def link(self, target, source):
            with self.mu:
                self.point("link", target)
                parent, name = self.parent_of(target)
                if name in parent.entries:
                    raise FuseOSError(errno.EEXIST)
                parent.entries[name] = self.node_at(source).ino
                return 0

        def symlink(self, target, source):
            with self.mu:
                self.point("symlink", target)
                parent, name = self.parent_of(target)
                if name in parent.entries:
                    raise FuseOSError(errno.EEXIST)
                node = self.s.new(stat.S_IFLNK | 0o777)
                node.data = bytearray(source.encode())
                node.durable = bytes(node.data)
                parent.entries[name] = node.ino
                return 0

        def readlink(self, path):
            with self.mu:
                self.point("readlink", path)
                return self.node_at(path).data.decode()

        def chmod(self, path, mode):
            with self.mu:
                self.point("chmod", path)
                node = self.node_at(path)
                node.mode = (node.mode & ~0o7777) | (mode & 0o7777)
                return 0

        def chown(self, path, uid, gid):
            return 0

        def utimens(self, path, times=None):
            with self.mu:
                self.point("utimens", path)
                self.node_at(path).mtime = times[1] if times else time.time_ns()
                return 0

        def statfs(self, path):
            return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 1 << 24, "f_bfree": 1 << 23,
                    "f_bavail": 1 << 23, "f_files": 1 << 20, "f_ffree": 1 << 19,
                    "f_namemax": 255}  # fmt: skip

        def fallocate(self, path, mode, offset, size, fh):
            raise FuseOSError(errno.EOPNOTSUPP)

        def init(self, path):
            say("ready")

    return CrashOps


_out_lock = threading.Lock()


def say(line: str) -> None:
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _control(ops) -> None:
    """Read commands from stdin (see the module docstring) until it closes."""
    for raw in sys.stdin:
        cmd, *args = raw.split()
        if cmd == "arm":
            with ops.mu:
                ops.freeze_at = ops.count + int(args[0])
            say("armed")
        elif cmd == "fail":
            with ops.mu:
                ops.fail_at = ops.count + int(args[0])
                ops.fail_errno = int(args[1])
            say("armed")
        elif cmd == "count":
            with ops.mu:
                say(f"count {ops.count}")
        elif cmd == "log":
            with ops.mu:
                say("log " + json.dumps(ops.log))
        elif cmd == "dump":
            with ops.mu:
                ops.s.write_out(Path(args[0]), durable=False)
            say("dumped")
        elif cmd == "cut":
            # The file system serves one request at a time, and the frozen one waits, so
            # nothing changes the state now: this is the state at the moment of the cut.
            # Not under ops.mu: the frozen request holds it while it waits.
            ops.dead = True
            ops.s.write_out(Path(args[0]), durable=True)
            ops.cut_done.set()
            say("cut")


def serve(seed: Path | None, mountpoint: str) -> None:
    """Mount, seeded from `seed` (None: empty), and serve until unmounted."""
    import logging

    import mfusepy

    logging.getLogger("mfusepy").setLevel(logging.CRITICAL)  # EIO after a cut is expected
    state = State()
    if seed is not None:
        state.seed(seed)
    ops = _ops_class()(state)
    threading.Thread(target=_control, args=(ops,), daemon=True).start()
    mfusepy.FUSE(
        ops,
        mountpoint,
        foreground=True,
        nothreads=True,
        hard_remove=True,
        use_ino=True,
        fsname="crashfs",
    )


def unavailable() -> str | None:
    """Why a crash file system cannot be mounted here, or None if it can."""
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse on this machine"
    try:
        import mfusepy  # noqa: F401  (loads libfuse)
    except (ImportError, OSError) as exc:
        return f"the FUSE library is not available ({exc})"
    if os.geteuid() != 0 and not shutil.which("fusermount3") and not shutil.which("fusermount"):
        return "no fusermount to mount FUSE as a user"
    return None


class CrashFS:
    """Drives one crash file system process mounted at `mountpoint`, seeded from `seed`."""

    def __init__(self, seed: Path | None, mountpoint: Path) -> None:
        mountpoint.mkdir(parents=True, exist_ok=True)
        self.mountpoint = mountpoint
        # Forked from this process (mfusepy already imported) rather than a new interpreter:
        # a crash point mounts twice, and starting Python each time cost most of it.
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(to_child, 0)
                os.dup2(from_child, 1)
                for fd in (to_child, from_parent, to_parent, from_child):
                    os.close(fd)
                sys.stdin = open(0, encoding="utf-8")
                sys.stdout = open(1, "w", encoding="utf-8")
                serve(seed, str(mountpoint))
            finally:
                os._exit(0)
        os.close(to_child)
        os.close(from_child)
        self.pid = pid
        self.stdin = open(from_parent, "w", encoding="utf-8")
        self.stdout = open(to_parent, encoding="utf-8")
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self._expect("ready")
        except BaseException:
            self.stop()
            raise

    def _read(self) -> None:
        for line in self.stdout:
            self.lines.put(line.strip())
        self.lines.put("eof")

    def _next(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("the crash file system did not answer") from None

    def _expect(self, word: str, timeout: float = 60) -> str:
        line = self._next(timeout)
        if not line.startswith(word):
            raise RuntimeError(f"crash file system: expected {word!r}, got {line!r}")
        return line

    def _send(self, line: str) -> None:
        self.stdin.write(line + "\n")
        self.stdin.flush()

    def arm(self, n: int) -> None:
        """Freeze at the n-th mutating request from now (see the module docstring)."""
        self._send(f"arm {n}")
        self._expect("armed")

    def fail(self, n: int, err: int) -> None:
        """Fail the n-th mutating request from now with `err`, then go on."""
        self._send(f"fail {n} {err}")
        self._expect("armed")

    def count(self) -> int:
        self._send("count")
        return int(self._expect("count").split()[1])

    def log(self) -> list[str]:
        """ "OP PATH" of every mutating request so far; crash point N is entry N-1."""
        self._send("log")
        return json.loads(self._expect("log").split(" ", 1)[1])

    def dump(self, target: Path) -> None:
        """Copy the current state (as if everything had been fsynced) into `target`."""
        self._send(f"dump {target}")
        self._expect("dumped")

    def frozen(self, timeout: float) -> str | None:
        """Wait for the armed request; its description, or None if `timeout` passed."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if not line.startswith("frozen"):
            raise RuntimeError(f"crash file system: unexpected {line!r}")
        return line

    def cut(self, target: Path) -> None:
        """Lose power: write what survives into `target`; every request fails from now."""
        self._send(f"cut {target}")
        self._expect("cut")

    def stop(self) -> None:
        """Unmount and end the file system process."""
        for cmd in (["fusermount3", "-u", "-z"], ["umount", "-l"]):
            if shutil.which(cmd[0]):
                subprocess.run([*cmd, str(self.mountpoint)], capture_output=True)
                break
        with contextlib.suppress(OSError):
            self.stdin.close()  # the control thread ends; the file system ends when unmounted
        deadline = time.monotonic() + 30
        while not os.waitpid(self.pid, os.WNOHANG)[0]:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.01)
        with contextlib.suppress(OSError):
            self.stdout.close()


if __name__ == "__main__":
    serve(Path(sys.argv[1]) if sys.argv[1] else None, sys.argv[2])
