"""Where "open in another app" copies go (issue 13, low): without XDG_RUNTIME_DIR they went
to /tmp/runtime-UID, on disk. Now a private 0700 folder on the /dev/shm tmpfs is preferred,
and when only a disk is left the vault says so plainly (a property and an unlock notice)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from strongroom.vault import Vault, lifecycle, tempdirs
from vault_helpers import PASSPHRASE, FakeClock, fast_params

SHM = Path("/dev/shm")


def _create(tmp_path: Path) -> Vault:
    vault, _ = Vault.create(
        tmp_path / "T.strongroom",
        PASSPHRASE,
        kdf_params=fast_params(),
        clock=FakeClock(),
        config_dir=tmp_path / "config",
    )
    return vault


@pytest.fixture
def no_runtime_dir(monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def test_without_xdg_runtime_dir_copies_go_to_a_private_folder_on_dev_shm(tmp_path, no_runtime_dir):
    assert tempdirs.mount_type(SHM) == "tmpfs", "this machine's /dev/shm is a tmpfs"
    vault = _create(tmp_path)
    try:
        private = SHM / f"strongroom-{os.getuid()}"
        assert vault.temp_dir.parent == private
        vault.add_bytes("/", "a.txt", b"secret words")
        copy = vault.open_external("/a.txt")
        assert private in copy.parents
        st = os.lstat(private)
        assert st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o700
        assert vault.temp_in_memory is True
        assert vault.temp_notice is None
    finally:
        vault.lock()
    assert not copy.exists()


def test_a_squatted_dev_shm_folder_is_not_used(tmp_path, monkeypatch, no_runtime_dir):
    fake_shm = tmp_path / "shm"
    fake_shm.mkdir()
    (fake_shm / f"strongroom-{os.getuid()}").symlink_to(tmp_path)  # someone else's trap
    monkeypatch.setattr(tempdirs, "on_ram_fs", lambda p: Path(p) == fake_shm)
    root = tempdirs.choose_temp_root({}, shm=fake_shm)
    assert root.in_memory is False
    assert fake_shm not in root.path.parents
    assert "on disk" in root.note and "strongroom-" in root.note


def test_a_private_shm_folder_with_loose_mode_is_tightened(tmp_path, monkeypatch):
    fake_shm = tmp_path / "shm"
    (fake_shm / f"strongroom-{os.getuid()}").mkdir(parents=True, mode=0o755)
    monkeypatch.setattr(tempdirs, "on_ram_fs", lambda p: Path(p) == fake_shm)
    root = tempdirs.choose_temp_root({}, shm=fake_shm)
    assert root.path == fake_shm / f"strongroom-{os.getuid()}" and root.in_memory
    assert stat.S_IMODE(os.lstat(root.path).st_mode) == 0o700
    assert root.note is None


def test_only_a_disk_left_is_said_plainly(tmp_path, monkeypatch, no_runtime_dir):
    monkeypatch.setattr(tempdirs, "on_ram_fs", lambda _p: False)
    monkeypatch.setattr(tempdirs, "SHM", tmp_path / "no-shm")
    vault = _create(tmp_path)
    try:
        assert vault.temp_in_memory is False
        assert vault.temp_notice is not None and "on disk" in vault.temp_notice
        assert str(vault.temp_dir.parent) in vault.temp_notice
    finally:
        vault.lock()


def test_runtime_dir_on_disk_is_said_too(tmp_path, monkeypatch):
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setattr(tempdirs, "on_ram_fs", lambda _p: False)
    root = tempdirs.choose_temp_root()
    assert root.path == runtime / "strongroom" and not root.in_memory
    assert "on disk" in root.note


def test_runtime_dir_in_memory_is_used_quietly(tmp_path, monkeypatch):
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setattr(tempdirs, "on_ram_fs", lambda p: Path(p) == runtime)
    root = tempdirs.choose_temp_root()
    assert root == tempdirs.TempRoot(runtime / "strongroom", True, None)


def test_old_default_root_was_on_disk_without_runtime_dir(no_runtime_dir):
    # The regression itself, at the function the vault calls.
    assert SHM in lifecycle._default_temp_root().path.parents
