"""Issue 15: a power cut in the middle of a backup (tests/crashfs.py: the backup folder is on
a file system that forgets everything not fsynced) leaves, at the destination, the earlier
backup whole, or the new one complete, or — for a first backup only — a folder marked
incomplete that does not open. Never a backup that opens but is inconsistent.

A victim process (forked) opens the vault, which lives on the real disk, and backs it up to
the crash file system; crash point N freezes the N-th mutating request there, the victim is
SIGKILLed and only what was fsynced survives. Then the survivor is opened and checked deeply.
Sampled crash points by default (`STRONGROOM_BACKUP_POINTS`, default 10 per case), every one
with `STRONGROOM_TORTURE=1`. `test_harness_fails_without_the_object_sync` proves the checks
can fail: with the objects' sync made a no-op, some cut leaves a backup that opens damaged.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
import traceback
from pathlib import Path

import pytest

import crashfs
from strongroom.vault import BackupIncomplete, Vault
from vault_helpers import PASSPHRASE, content_for, fast_params

REASON = crashfs.unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"crash file system: {REASON}")

TORTURE = os.environ.get("STRONGROOM_TORTURE") == "1"
POINTS = int(os.environ.get("STRONGROOM_BACKUP_POINTS", "10"))


def _open(folder: Path, cfg: Path, run: Path) -> Vault:
    return Vault.open(folder, PASSPHRASE, config_dir=cfg, temp_root=run)


def _listing(vault: Vault) -> dict[str, bytes]:
    return {i.path: vault.read_bytes(i.path) for i in vault.walk("/") if hasattr(i, "size")}


class World:
    """The vault (real disk), an earlier backup of it, and the listings before and after."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.vault = root / "v.strongroom"
        self.cfg = root / "cfg"
        self.run = root / "run"
        self.old_backup = root / "old-backup"  # seeds the crash file system: "incremental"
        self.empty = root / "empty"  # seeds it with nothing: "fresh"
        self.empty.mkdir(parents=True)
        v, _ = Vault.create(
            self.vault,
            PASSPHRASE,
            kdf_params=fast_params(),
            config_dir=self.cfg,
            temp_root=self.run,
        )
        with v:
            for name, size in (("a.bin", 150_000), ("b.bin", 90_000), ("small.txt", 300)):
                v.add_bytes("/", name, content_for(name, size))
            self.old = _listing(v)
            backup_dir = self.old_backup / "dest"
            self.old_backup.mkdir()
            v.backup(backup_dir)
            v.add_bytes("/", "c.bin", content_for("c", 200_000))
            v.add_bytes("/", "d.bin", content_for("d", 80_000))
            v.delete("/b.bin")
            self.new = _listing(v)


def victim_main(world: World, dest: Path, break_sync: bool) -> None:
    if break_sync:
        from strongroom.vault import backup

        backup.sync_files = lambda folder, paths: None  # the harness must catch this
    v = _open(world.vault, world.cfg, world.run)
    v.backup(dest)
    os.write(1, b"done\n")
    v.lock()


def _crash(world: World, case: str, point: int | None, break_sync: bool = False):
    """Back up with the power cut at `point` (None: after a clean finish); returns (the
    survivors' backup folder, whether the victim finished, the request log)."""
    seed = world.old_backup if case == "incremental" else world.empty
    mnt = world.root / "mnt"
    survivors = world.root / f"after-{case}-{point}-{int(break_sync)}"
    shutil.rmtree(survivors, ignore_errors=True)
    fs = crashfs.CrashFS(seed, mnt)
    try:
        if point is not None:
            fs.arm(point)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(read_fd)
                os.dup2(write_fd, 1)
                victim_main(world, mnt / "dest", break_sync)
            except BaseException:
                os.write(1, traceback.format_exc().encode())
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        frozen, status = None, None
        deadline = time.monotonic() + 120
        while frozen is None and status is None:
            frozen = fs.frozen(0.05)
            done_pid, raw = os.waitpid(pid, os.WNOHANG)
            if done_pid:
                status = os.waitstatus_to_exitcode(raw)
            assert time.monotonic() < deadline, "the victim hung"
        if frozen is not None:
            os.kill(pid, signal.SIGKILL)
        fs.cut(survivors)
        if status is None:
            os.waitpid(pid, 0)
        out = b""
        while chunk := os.read(read_fd, 65536):
            out += chunk
        os.close(read_fd)
        log = fs.log()
    finally:
        fs.stop()
    text = out.decode(errors="replace")
    if frozen is None and "done" not in text.splitlines():
        raise AssertionError(f"the victim failed by itself:\n{text[-3000:]}")
    return survivors / "dest", "done" in text.splitlines(), log


def _problems(world: World, case: str, dest: Path, finished: bool) -> list[str]:
    if case == "fresh" and not dest.exists():
        return [] if not finished else ["a finished backup is missing"]
    if (dest / "BACKUP-INCOMPLETE.txt").exists():
        if case == "incremental" or finished:
            return ["an earlier or finished backup is marked incomplete"]
        try:
            _open(dest, world.cfg, world.run).lock()
        except BackupIncomplete:
            return []
        return ["a backup marked incomplete opened"]
    if case == "fresh" and not (dest / "vault.strongroom").exists():
        return ["a first backup without its marker and without a header"]
    try:
        with _open(dest, world.cfg, world.run) as copy:
            report = copy.check(deep=True)
            if not report.ok:
                return [f"check: {p.part}: {p.message}" for p in report.problems]
            files = _listing(copy)
    except Exception as exc:
        return [f"does not open: {type(exc).__name__}: {exc}"]
    if finished and files != world.new:
        return ["a finished backup does not hold the vault as it is"]
    if files not in (world.old, world.new):
        return [f"holds neither the old nor the new state: {sorted(files)}"]
    return []


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return World(tmp_path_factory.mktemp("backup-power"))


def _points(count: int) -> list[int]:
    if TORTURE or count <= POINTS:
        return list(range(1, count + 1))
    step = count / POINTS
    return sorted({max(1, round(step * (i + 1))) for i in range(POINTS)})


@pytest.mark.slow
@pytest.mark.parametrize("case", ["fresh", "incremental"])
def test_power_cut_during_a_backup(world, case):
    dest, finished, log = _crash(world, case, None)
    assert finished
    assert _problems(world, case, dest, True) == []
    found = {}
    for point in _points(len(log)):
        dest, finished, _ = _crash(world, case, point)
        problems = _problems(world, case, dest, finished)
        if problems:
            found[f"{point}: {log[point - 1]}"] = problems
    assert found == {}


def test_harness_fails_without_the_object_sync(world):
    _, _, log = _crash(world, "fresh", None)
    renames = [
        i + 1 for i, entry in enumerate(log) if entry.startswith("rename") and "objects" in entry
    ]
    found = []
    for point in [*renames[-1:], len(log)]:
        dest, finished, _ = _crash(world, "fresh", point + 1, break_sync=True)
        found += _problems(world, "fresh", dest, finished)
    assert found, "no cut found the missing sync"
