"""Damage never yields wrong plaintext: every bit flip is a clear error naming the part."""

from __future__ import annotations

import random
import shutil

import pytest

from strongroom.vault import Vault, VaultDamaged, WrongPassphrase
from strongroom.vault.header import MAX_HEADER_SIZE, parse_header
from vault_helpers import (
    PASSPHRASE,
    content_for,
    env,
    fast_params,
    flip_bit,
    tree_hashes,
)

__all__ = ["env"]

FILES = {"small.txt": 100, "inline-max.bin": 65536, "two-chunks.bin": 65537, "big.bin": 300_000}


def _filled_vault(env):
    vault, _ = env.create()
    vault.mkdir("/", "d")
    for name, size in FILES.items():
        vault.add_bytes("/d", name, content_for(name, size))
    vault.lock()
    return vault


def _open_copy(pristine, work, cfg, tmp_path):
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine, work)
    return work


def test_every_header_bit_flip_is_damage(env):
    _filled_vault(env)
    data = (env.vault_path / "vault.strongroom").read_bytes()
    assert len(data) < MAX_HEADER_SIZE
    parse_header(data)
    for bit in range(len(data) * 8):
        mutated = bytearray(data)
        mutated[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(VaultDamaged) as info:
            parse_header(bytes(mutated))
        assert info.value.part == "header"
        assert "vault.strongroom" in str(info.value)


def test_header_flips_through_open(env):
    """The same flip in both copies (one damaged copy is survived: test_vault_header.py)."""
    _filled_vault(env)
    copies = [env.vault_path / "vault.strongroom", env.vault_path / "vault.strongroom.bak"]
    data = copies[0].read_bytes()
    assert copies[1].read_bytes() == data
    rng = random.Random(1)
    for _ in range(40):
        bit = rng.randrange(len(data) * 8)
        for header in copies:
            flip_bit(header, bit)
        with pytest.raises(VaultDamaged) as info:
            env.open()
        assert info.value.part == "header", bit
        for header in copies:
            header.write_bytes(data)
    env.open().lock()


def test_truncated_or_missing_header(env):
    _filled_vault(env)
    copies = [env.vault_path / "vault.strongroom", env.vault_path / "vault.strongroom.bak"]
    data = copies[0].read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 1):
        for header in copies:
            header.write_bytes(data[:cut])
        with pytest.raises(VaultDamaged):
            env.open()
    for header in copies:
        header.unlink()
    with pytest.raises(VaultDamaged, match="missing"):
        env.open()
    for header in copies:
        header.write_bytes(data + b"extra\n")
    with pytest.raises(VaultDamaged):
        env.open()


def test_header_of_another_vault_is_damage_not_wrong_passphrase(env, tmp_path):
    _filled_vault(env)
    other, _ = Vault.create(
        tmp_path / "other.strongroom",
        PASSPHRASE,
        kdf_params=fast_params(),
        config_dir=env.config_dir,
        temp_root=env.temp_root,
    )
    other.lock()
    foreign = tmp_path / "other.strongroom" / "vault.strongroom"
    # Only vault.strongroom swapped: the key it gives does not open vault.db, so the
    # backup copy is used and the foreign header is replaced.
    shutil.copy(foreign, env.vault_path / "vault.strongroom")
    vault = env.open()
    assert "vault.strongroom" in (vault.header_warning or "")
    vault.lock()
    assert (env.vault_path / "vault.strongroom").read_bytes() != foreign.read_bytes()
    for name in ("vault.strongroom", "vault.strongroom.bak"):
        shutil.copy(foreign, env.vault_path / name)
    with pytest.raises(VaultDamaged) as info:
        env.open()
    assert info.value.part in ("header", "database")


def _read_everything(vault):
    """Read every file; return {path: bytes or the VaultDamaged raised}."""
    out = {}
    for item in vault.walk("/"):
        if item.is_folder:
            continue
        try:
            out[item.path] = vault.read_bytes(item)
        except VaultDamaged as exc:
            out[item.path] = exc
    return out


def test_database_bit_flips_are_detected(env, tmp_path):
    _filled_vault(env)
    pristine = tmp_path / "pristine"
    shutil.copytree(env.vault_path, pristine)
    db_size = (pristine / "vault.db").stat().st_size
    rng = random.Random(2)
    # Page 1 (incl. the salt), page boundaries, and random offsets.
    offsets = [0, 5, 15, 16, 100, 4095, 4096, 4097, db_size - 1]
    offsets += [rng.randrange(db_size) for _ in range(25)]
    detected_at_open = detected_later = 0
    for i, off in enumerate(offsets):
        shutil.rmtree(env.vault_path)
        shutil.copytree(pristine, env.vault_path)
        flip_bit(env.vault_path / "vault.db", off * 8 + rng.randrange(8))
        cfg = tmp_path / f"cfg{i}"
        try:
            vault = Vault.open(env.vault_path, PASSPHRASE, config_dir=cfg, temp_root=env.temp_root)
        except VaultDamaged as exc:
            assert exc.part == "database" and "vault.db" in str(exc)
            detected_at_open += 1
            continue
        try:
            report = vault.check()
            assert not report.ok, f"flip at byte {off} not found by check()"
            assert any(p.part == "database" for p in report.problems)
            for path, got in _read_everything(vault).items():
                if isinstance(got, bytes):
                    assert got == content_for(path.rsplit("/", 1)[1], len(got)), path
            detected_later += 1
        except VaultDamaged as exc:
            assert exc.part == "database"
            detected_later += 1
        finally:
            vault.lock()
    assert detected_at_open + detected_later == len(offsets)


def test_object_bit_flips_name_the_file(env, tmp_path):
    _filled_vault(env)
    objects = sorted(p for p in (env.vault_path / "objects").rglob("*") if p.is_file())
    assert len(objects) == 2  # the two files above INLINE_MAX
    rng = random.Random(3)
    for _ in range(30):
        obj = rng.choice(objects)
        original = obj.read_bytes()
        flip_bit(obj, rng.randrange(len(original) * 8))
        vault = env.open()
        try:
            results = _read_everything(vault)
            damaged = [p for p, got in results.items() if isinstance(got, VaultDamaged)]
            assert len(damaged) == 1
            (bad,) = damaged
            exc = results[bad]
            assert exc.part == "object" and exc.item_path == bad and bad in str(exc)
            for path, got in results.items():
                if path != bad:
                    assert got == content_for(path.rsplit("/", 1)[1], len(got))
            with pytest.raises(VaultDamaged):
                vault.export(bad, tmp_path / "out.bin")
            assert not (tmp_path / "out.bin").exists()
            assert list(tmp_path.glob(".out.bin*")) == []
            assert vault.check().ok  # sizes still fine
            deep = vault.check(deep=True)
            assert [p.item_path for p in deep.problems] == [bad]
        finally:
            vault.lock()
        obj.write_bytes(original)


def test_missing_truncated_and_swapped_objects(env, tmp_path):
    _filled_vault(env)
    a, b = sorted(p for p in (env.vault_path / "objects").rglob("*") if p.is_file())
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_a[:-1])
    vault = env.open()
    report = vault.check()
    assert len(report.problems) == 1 and "wrong size" in report.problems[0].message
    vault.lock()
    a.write_bytes(data_b[: len(data_a)] if len(data_b) >= len(data_a) else data_b)
    b.write_bytes(data_a)
    vault = env.open()
    results = _read_everything(vault)
    assert sum(isinstance(v, VaultDamaged) for v in results.values()) >= 1
    for path, got in results.items():
        if isinstance(got, bytes):
            assert got == content_for(path.rsplit("/", 1)[1], len(got))
    vault.lock()
    a.unlink()
    vault = env.open()  # a missing object does not stop the vault from opening
    report = vault.check()
    assert any("missing" in p.message for p in report.problems)
    vault.lock()


def test_wrong_passphrase_on_intact_header_is_not_damage(env):
    _filled_vault(env)
    before = tree_hashes(env.vault_path)
    with pytest.raises(WrongPassphrase):
        env.open("nope")
    assert tree_hashes(env.vault_path) == before


def test_wal_bit_flips_after_a_crash_are_detected(env, tmp_path):
    """A crash leaves committed transactions in vault.db-wal. SQLite drops a WAL frame that
    fails its checksum *and every later one*, silently; the checkpoint outside the vault is
    what turns that into a reported problem instead of quietly lost history."""
    vault, _ = env.create()
    vault.add_bytes("/", "early", b"committed before the crash image")
    for i in range(5):
        vault.add_bytes("/", f"late{i}", content_for(f"late{i}", 3000))
    wal = env.vault_path / "vault.db-wal"
    assert wal.exists() and wal.stat().st_size > 0
    # A crash image: the folder and the config dir exactly as they are now.
    image, image_cfg = tmp_path / "image", tmp_path / "image-cfg"
    shutil.copytree(env.vault_path, image)
    shutil.copytree(env.config_dir, image_cfg)
    vault.lock()
    (image / ".lock").unlink()

    def open_copy(cfg):
        return Vault.open(work, PASSPHRASE, config_dir=cfg, temp_root=env.temp_root)

    work = tmp_path / "work"
    shutil.copytree(image, work)
    shutil.copytree(image_cfg, tmp_path / "cfg-control")
    control = open_copy(tmp_path / "cfg-control")
    assert control.verify_history().ok and len(control.list()) == 6
    control.lock()
    wal_size = (image / "vault.db-wal").stat().st_size
    rng = random.Random(4)
    outcomes = {"damaged at open": 0, "reported by verify": 0}
    for i in range(15):
        shutil.rmtree(work)
        shutil.copytree(image, work)
        cfg = tmp_path / f"cfg{i}"
        shutil.copytree(image_cfg, cfg)
        flip_bit(work / "vault.db-wal", rng.randrange(wal_size * 8))
        try:
            v = open_copy(cfg)
        except VaultDamaged:
            outcomes["damaged at open"] += 1
            continue
        try:
            report = v.verify_history()
            assert not report.ok, "a damaged WAL lost commits without a report"
            assert v.rollback_warning  # shown at unlock, not only on verify
            outcomes["reported by verify"] += 1
            for item in v.walk("/"):  # whatever survived reads back correctly
                if not item.is_folder and item.name.startswith("late"):
                    assert v.read_bytes(item) == content_for(item.name, 3000)
        finally:
            v.lock()
    assert sum(outcomes.values()) == 15
