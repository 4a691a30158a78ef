"""Issue 11 item 4: on a full file system the vault still reads (ls, cat, check, verify-log).

These run the command line in-process on a real, small tmpfs that the test mounts (root
only; skipped with the reason otherwise), fill it with a filler file, and check that reading
works, that one plain notice says the disk is full and which history entries were not
written, and that after space returns the history holds them (or an explained gap)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from cli_helpers import isolate_cli
from strongroom import cli

SECRET = "diskfull passphrase 4b1e"
FAST_KDF = ["--kdf-memory", "8", "--kdf-iterations", "1"]
NOTICE = "disk is full"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)


@contextlib.contextmanager
def _tmpfs(path: Path, size: str):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; run as root to test a real full disk")
    path.mkdir()
    try:
        out = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        pytest.skip("no mount command available")
    if out.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {out.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(path: Path) -> None:
    """Write `path` until the file system says ENOSPC."""
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    # the last partial page too
    with open(path, "ab", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 512)
    st = os.statvfs(path.parent)
    assert st.f_bfree == 0, "the file system did not fill up"


@pytest.fixture
def run(capsysbinary):
    def _run(*argv: object) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsysbinary.readouterr()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8")

    return _run


def _make_vault(run, mnt: Path, tmp_path: Path, monkeypatch) -> list[str]:
    pw = tmp_path / "pw"
    pw.write_text(SECRET + "\n")
    vault = mnt / "v.strongroom"
    code, _, err = run("--vault", vault, "--passphrase-file", pw, "init", *FAST_KDF)
    assert code == 0, err
    monkeypatch.setenv("STRONGROOM_VAULT", str(vault))
    (tmp_path / "a.txt").write_text("alpha\n")
    (tmp_path / "big.bin").write_bytes(os.urandom(100_000))
    code, _, err = run("--passphrase-file", pw, "add", tmp_path / "a.txt", tmp_path / "big.bin")
    assert code == 0, err
    return ["--passphrase-file", str(pw)]


def _reads_work_on_full_disk(run, pw: list[str], tmp_path: Path) -> list[str]:
    """ls, cat, check and verify-log on the full disk; returns their stderr texts."""
    errs = []
    code, out, err = run(*pw, "ls", "/")
    assert code == 0, err
    assert "a.txt" in out and "big.bin" in out
    errs.append(err)
    code, out, err = run(*pw, "cat", "/a.txt")
    assert code == 0, err
    assert out == "alpha\n"
    errs.append(err)
    code, out, err = run(*pw, "check")
    assert code == 0, err
    assert "0 problems" in out
    errs.append(err)
    code, out, err = run(*pw, "verify-log")
    assert code == 0, err
    assert "History OK" in out
    errs.append(err)
    for err in errs:
        # said once per command, plainly
        assert err.count(NOTICE) == 1, err
        assert "disk I/O error" not in err
    assert "file-exported /a.txt" in errs[1]  # the read that is not yet in the history
    assert "integrity-check" in errs[2]
    return errs


def test_cli_reads_on_full_disk_and_writes_the_entries_later(run, tmp_path, monkeypatch):
    with _tmpfs(tmp_path / "small", "4m") as mnt:
        pw = _make_vault(run, mnt, tmp_path, monkeypatch)
        _fill(mnt / "filler")
        errs = _reads_work_on_full_disk(run, pw, tmp_path)
        # the config folder (outside the full disk) kept them for the next unlock
        assert "next unlock" in errs[1], errs[1]
        (mnt / "filler").unlink()  # space again
        code, out, err = run(*pw, "verify-log")
        assert code == 0, out + err
        assert NOTICE not in err
        assert "written late" in out, out
        code, out, err = run(*pw, "log", "--limit", "0", "--json")
        assert code == 0, err
        entries = json.loads(out)["entries"]
        exported = [e for e in entries if e["action"] == "file-exported"]
        assert [e["item_name"] for e in exported] == ["/a.txt"]
        checks = [e for e in entries if e["action"] == "integrity-check"]
        assert len(checks) == 1  # the one run on the full disk
        assert any(e["action"] == "history-delayed" for e in entries)
        assert not any(e["action"] == "history-gap" for e in entries)
        code, out, err = run(*pw, "check", "--deep")
        assert code == 0, out + err


def test_cli_full_disk_with_config_on_the_same_disk_records_a_gap(run, tmp_path, monkeypatch):
    with _tmpfs(tmp_path / "small", "4m") as mnt:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(mnt / "config"))
        pw = _make_vault(run, mnt, tmp_path, monkeypatch)
        _fill(mnt / "filler")
        errs = _reads_work_on_full_disk(run, pw, tmp_path)
        assert "gap" in errs[1], errs[1]
        (mnt / "filler").unlink()
        code, out, err = run(*pw, "verify-log")
        assert code == 0, out + err
        assert "could not be written" in out, out  # the gap is explained, not hidden
        code, out, err = run(*pw, "log", "--limit", "0", "--json")
        entries = json.loads(out)["entries"]
        gaps = [e for e in entries if e["action"] == "history-gap"]
        assert gaps and gaps[0]["details"]["reason"] == "disk-full"
