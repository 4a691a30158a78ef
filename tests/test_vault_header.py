"""The header's two copies and its authentication (issue 11 item 3, issue 13 header finding).

- One damaged byte anywhere in `vault.strongroom` must not lose the vault: a second copy,
  `vault.strongroom.bak`, is kept and opening falls back to it with a warning.
- The header is authenticated by a MAC under a key derived from the vault key, so a header
  rewritten with its checksum recomputed (lower Argon2 cost, wiped recovery slot) is found
  after the next unlock, reported, and repaired from an authenticated copy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from strongroom.crypto import kdf
from strongroom.vault import (
    DiskFull,
    Vault,
    VaultDamaged,
    WrongPassphrase,
    WrongRecoveryKey,
    header_copies,
)
from strongroom.vault import header as vault_header
from strongroom.vault import keys as vault_keys
from strongroom.vault import lifecycle as vault_lifecycle
from vault_helpers import PASSPHRASE, env, fast_params

__all__ = ["env"]

HEADER = "vault.strongroom"
BACKUP = "vault.strongroom.bak"
NEW_PASSPHRASE = "a new and different passphrase"
TORTURE = os.environ.get("STRONGROOM_TORTURE") == "1"


def _kw(env) -> dict:
    return {"config_dir": env.config_dir, "temp_root": env.temp_root, "clock": env.clock}


def _costly() -> kdf.Argon2idParams:
    """Cheap enough for tests, yet above the floor, so an attacker can lower it."""
    return kdf.Argon2idParams.new(memory_kib=2 * kdf.MIN_MEMORY_KIB, iterations=2, parallelism=1)


def _kdf_of(path: Path) -> dict:
    return json.loads(path.read_bytes().split(b"\n")[1])["kdf"]


def _rewrite(path: Path, mutate) -> None:
    """Edit the JSON body and recompute the checksum, as an attacker with write access
    can; any other line (the MAC) is kept as it was."""
    lines = path.read_bytes().split(b"\n")
    obj = json.loads(lines[1])
    mutate(obj)
    lines[1] = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    signed = b"\n".join(lines[:-2]) + b"\n"
    path.write_bytes(signed + b"sha256:" + hashlib.sha256(signed).hexdigest().encode() + b"\n")


def _lower_cost(obj: dict) -> None:
    obj["kdf"].update(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1)


def _wipe_recovery(obj: dict) -> None:
    slot = obj["slots"]["recovery"]
    slot["wrapped"] = "A" * len(slot["wrapped"])  # still well-formed, base64 of zeros


def _new_vault(env, params=None) -> str:
    vault, recovery = Vault.create(
        env.vault_path, PASSPHRASE, kdf_params=params or fast_params(), **_kw(env)
    )
    vault.add_bytes("/", "note.txt", b"still here")
    vault.lock()
    return recovery


def _open(env, passphrase: str = PASSPHRASE) -> Vault:
    return Vault.open(env.vault_path, passphrase, **_kw(env))


def _recover(env, recovery: str, kdf_params=None) -> Vault:
    if kdf_params is None:
        kdf_params = fast_params()
    return Vault.open_with_recovery_key(
        env.vault_path, recovery, PASSPHRASE, kdf_params=kdf_params, **_kw(env)
    )


# ----- A. the backup copy ---------------------------------------------------------------


def test_create_writes_two_identical_copies(env):
    _new_vault(env)
    primary = (env.vault_path / HEADER).read_bytes()
    assert (env.vault_path / BACKUP).read_bytes() == primary
    assert primary.startswith(b"strongroom-vault/2\n")
    assert (env.vault_path / BACKUP).stat().st_mode & 0o777 == 0o600


@pytest.fixture
def memo_argon2(monkeypatch):
    """Argon2id is deterministic: memoize it so that hundreds of unlocks of one slot cost
    one derivation (the header logic under test is unchanged)."""
    real = kdf.derive
    cache: dict = {}

    def derive(passphrase, params):
        if (passphrase, params) not in cache:
            cache[(passphrase, params)] = real(passphrase, params)
        return cache[(passphrase, params)]

    monkeypatch.setattr(kdf, "derive", derive)


def _unlock_decision(folder: Path, passphrase=None, recovery=None):
    """What `Vault.open` / `open_with_recovery_key` run before opening the database: read
    both copies, unlock (with the real database check), decide what to keep."""
    copies = header_copies.read_copies(folder)
    if recovery is not None:
        raw = vault_keys.parse_recovery_key(recovery)
        opened, key = header_copies.unlock(
            copies,
            lambda h: h.unlock_with_recovery_key(raw),
            lambda h: h.recovery,
            functools.partial(vault_lifecycle._check_db_matches, folder),
        )
    else:
        opened, key = header_copies.unlock(
            copies,
            lambda h: h.unlock_with_passphrase(passphrase),
            lambda h: h.passphrase,
            functools.partial(vault_lifecycle._check_db_matches, folder),
        )
    return header_copies.plan(copies, opened, key), key


def _damage_sample(data: bytes) -> list[int]:
    """The header bytes `make test` damages (`make torture` damages every one): of each
    line its first and last byte and its newline; of each key and each value of the JSON
    body (so every field: the cost, salt, both slots' nonces and wrapped keys, the vault
    id) its first and last byte; and every 16th byte."""
    picked = set(range(0, len(data), 16))
    start = 0
    for line in data.split(b"\n")[:-1]:
        picked |= {start, start + max(len(line) - 1, 0), start + len(line)}
        if line.startswith(b"{"):
            for token in re.finditer(rb'"([^"]+)"|(\d+)', line):
                g = 1 if token.group(1) is not None else 2
                picked |= {start + token.start(g), start + token.end(g) - 1}
        start += len(line) + 1
    return sorted(picked)


def test_damage_sample_covers_every_line_and_field():
    """The sample above is not a stride that could miss a field: every line, every key
    and every value of the header has a damaged byte."""
    data = (
        b'strongroom-vault/2\n{"kdf":{"iterations":1,"salt":"c2FsdA=="},"vault_id":"ab"}\n'
        b"hmac-sha256:00ff\nsha256:11ee\n"
    )
    sample = set(_damage_sample(data))
    for part in (b"strongroom", b"/2", b"iterations", b"1,", b"salt", b"c2FsdA==", b"vault_id",
                 b'"ab"', b"hmac", b"00ff", b"sha256:1", b"11ee"):  # fmt: skip
        at = data.index(part)
        assert sample & set(range(at, at + len(part))), part
    assert {i for i, b in enumerate(data) if b == 0x0A} <= sample  # every newline


def test_every_damaged_header_byte_still_unlocks(env, memo_argon2):
    """Issue 11.3: each byte of vault.strongroom damaged in turn (`make test`: the sample
    `_damage_sample`, ~100 of ~590 bytes; `make torture`: every byte), through the unlock
    path: the passphrase and the recovery key still give the vault key and the intact
    header, the damage is reported, and a wrong passphrase is still WrongPassphrase."""
    recovery = _new_vault(env)
    path = env.vault_path / HEADER
    data = path.read_bytes()
    good, good_key = _unlock_decision(env.vault_path, PASSPHRASE)
    assert good.notes == [] and good.rewrite == []
    for i in range(len(data)) if TORTURE else _damage_sample(data):
        damaged = bytearray(data)
        damaged[i] ^= 0xFF
        path.write_bytes(bytes(damaged))
        for secret in ({"passphrase": PASSPHRASE}, {"recovery": recovery}):
            plan, key = _unlock_decision(env.vault_path, **secret)
            assert key == good_key, (i, secret)
            assert plan.header == good.header and plan.authenticated, i
            assert plan.rewrite == [HEADER], i
            assert "vault.strongroom" in plan.notes[0] and "damaged" in plan.notes[0], i
        with pytest.raises(WrongPassphrase):
            _unlock_decision(env.vault_path, "not the passphrase")
    path.write_bytes(data)


def test_damaged_header_bytes_through_open(env, memo_argon2):
    """The same through `Vault.open` and `open_with_recovery_key`, for a spread of bytes
    (every line, every eleventh byte): opens, reads, warns, and repairs the copy."""
    recovery = _new_vault(env)
    path = env.vault_path / HEADER
    data = path.read_bytes()
    line_starts = [0] + [i + 1 for i, b in enumerate(data[:-1]) if b == 0x0A]
    positions = sorted(set(range(0, len(data), 11)) | set(line_starts) | {len(data) - 1})
    for n, i in enumerate(positions):
        damaged = bytearray(data)
        damaged[i] ^= 0xFF
        path.write_bytes(bytes(damaged))
        with pytest.raises(WrongPassphrase):
            _open(env, "not the passphrase")
        vault = _recover(env, recovery) if n % 4 == 0 else _open(env)
        try:
            assert vault.read_bytes("/note.txt") == b"still here", i
            assert vault.header_warning and "vault.strongroom" in vault.header_warning, i
        finally:
            vault.lock()
        # Opening repaired the damaged copy from the good one.
        assert path.read_bytes() == (env.vault_path / BACKUP).read_bytes(), i
        data = path.read_bytes()  # a recovery wrote a new header: damage that one next


def test_damaged_backup_is_reported_and_repaired_at_open(env):
    _new_vault(env)
    backup = env.vault_path / BACKUP
    backup.write_bytes(backup.read_bytes()[:100])
    vault = _open(env)
    try:
        assert "vault.strongroom.bak" in (vault.header_warning or "")
        assert "repaired" in vault.header_warning
    finally:
        vault.lock()
    assert backup.read_bytes() == (env.vault_path / HEADER).read_bytes()
    again = _open(env)
    assert again.header_warning is None
    again.lock()


def test_both_copies_damaged_is_a_clear_vault_damaged(env):
    recovery = _new_vault(env)
    for name in (HEADER, BACKUP):
        p = env.vault_path / name
        data = bytearray(p.read_bytes())
        data[40] ^= 0x01
        p.write_bytes(bytes(data))
    with pytest.raises(VaultDamaged) as info:
        _open(env)
    assert info.value.part == "header"
    msg = str(info.value).lower()
    assert "vault.strongroom" in msg and "vault.strongroom.bak" in msg and "both" in msg
    with pytest.raises(VaultDamaged):
        _recover(env, recovery)


def test_missing_backup_opens_and_is_recreated(env):
    _new_vault(env)
    (env.vault_path / BACKUP).unlink()
    vault = _open(env)
    assert "missing" in (vault.header_warning or "")
    vault.lock()
    assert (env.vault_path / BACKUP).read_bytes() == (env.vault_path / HEADER).read_bytes()


def test_passwd_interrupted_between_the_two_copies(env, monkeypatch):
    """A crash after the first copy is written: the old and the new passphrase both open,
    and opening with either makes the two copies agree again."""
    _new_vault(env)
    vault = _open(env)
    real = vault_header.write_header
    writes = []

    def crash_on_second(path, header):
        # The process dies at the second write: it and every later write never happen.
        writes.append(Path(path).name)
        if len(writes) >= 2:
            raise OSError(5, "simulated crash")
        real(path, header)

    monkeypatch.setattr(header_copies, "write_header", crash_on_second)
    with pytest.raises(OSError):
        vault.change_passphrase(PASSPHRASE, NEW_PASSPHRASE, kdf_params=fast_params())
    monkeypatch.setattr(header_copies, "write_header", real)
    vault.lock()
    assert writes[:2] == [HEADER, BACKUP]  # the documented order
    assert (env.vault_path / HEADER).read_bytes() != (env.vault_path / BACKUP).read_bytes()
    _open(env, NEW_PASSPHRASE).lock()
    # Opening with the new passphrase finished the change: both copies are the new header.
    assert (env.vault_path / HEADER).read_bytes() == (env.vault_path / BACKUP).read_bytes()
    with pytest.raises(WrongPassphrase):
        _open(env, PASSPHRASE)


def test_passwd_interrupted_old_passphrase_still_opens(env, monkeypatch):
    _new_vault(env)
    vault = _open(env)
    real = vault_header.write_header
    calls = []

    def crash_on_second(path, header):
        calls.append(path)
        if len(calls) >= 2:
            raise OSError(5, "simulated crash")
        real(path, header)

    monkeypatch.setattr(header_copies, "write_header", crash_on_second)
    with pytest.raises(OSError):
        vault.change_passphrase(PASSPHRASE, NEW_PASSPHRASE, kdf_params=fast_params())
    monkeypatch.setattr(header_copies, "write_header", real)
    vault.lock()
    again = _open(env, PASSPHRASE)  # the change never completed: the old one still works
    assert again.read_bytes("/note.txt") == b"still here"
    again.lock()
    assert (env.vault_path / HEADER).read_bytes() == (env.vault_path / BACKUP).read_bytes()


def test_passwd_on_a_full_disk_changes_nothing(env, monkeypatch):
    """DiskFull on the second copy: the first is put back, so "nothing was changed" holds."""
    _new_vault(env)
    before = {name: (env.vault_path / name).read_bytes() for name in (HEADER, BACKUP)}
    vault = _open(env)
    real = vault_header.write_header
    calls = []

    def full_on_second(path, header):
        calls.append(Path(path).name)
        if len(calls) == 2:
            raise DiskFull()
        real(path, header)

    monkeypatch.setattr(header_copies, "write_header", full_on_second)
    with pytest.raises(DiskFull):
        vault.change_passphrase(PASSPHRASE, NEW_PASSPHRASE, kdf_params=fast_params())
    monkeypatch.setattr(header_copies, "write_header", real)
    assert calls == [HEADER, BACKUP, HEADER, BACKUP]  # the change, then putting back
    vault.lock()
    assert {name: (env.vault_path / name).read_bytes() for name in (HEADER, BACKUP)} == before
    with pytest.raises(WrongPassphrase):
        _open(env, NEW_PASSPHRASE)
    _open(env).lock()


def test_check_reports_and_repairs_a_copy_damaged_while_open(env):
    _new_vault(env)
    vault = _open(env)
    try:
        (env.vault_path / BACKUP).write_bytes(b"strongroom-vault/2\ngarbage\n")
        report = vault.check()
        header_problems = [p for p in report.problems if p.part == "header"]
        assert len(header_problems) == 1
        assert "vault.strongroom.bak" in header_problems[0].message
        assert header_problems[0].repaired
        assert not report.ok
        assert (env.vault_path / BACKUP).read_bytes() == (env.vault_path / HEADER).read_bytes()
        assert vault.check().ok
    finally:
        vault.lock()


# ----- B. authentication ----------------------------------------------------------------


def test_lowered_cost_with_recomputed_checksum_is_detected(env):
    """Issue 13: the cost lowered in vault.strongroom and its checksum recomputed. Today the
    passphrase just "fails"; now the authenticated backup opens, the change is reported as
    tampering and vault.strongroom is restored with the real cost."""
    _new_vault(env, _costly())
    before = _kdf_of(env.vault_path / HEADER)
    _rewrite(env.vault_path / HEADER, _lower_cost)
    vault = _open(env)
    try:
        warning = vault.header_warning or ""
        assert "without the vault key" in warning and "vault.strongroom" in warning
        assert vault.info().kdf_memory_kib == 2 * kdf.MIN_MEMORY_KIB
        assert vault.history(actions=["header-repaired"], limit=1)[0].details == {
            "copy": HEADER,
            "reason": "tampered",
        }
    finally:
        vault.lock()
    assert _kdf_of(env.vault_path / HEADER) == before


def test_lowered_cost_in_both_copies_is_wrong_passphrase_then_recover_resets_cost(env, monkeypatch):
    """Both copies edited: the passphrase cannot tell, but `recover` must not keep the
    attacker's cost; with no authenticated copy it takes the defaults."""
    recovery = _new_vault(env, _costly())
    for name in (HEADER, BACKUP):
        _rewrite(env.vault_path / name, _lower_cost)
    with pytest.raises(WrongPassphrase):
        _open(env)
    defaults = kdf.Argon2idParams.new(memory_kib=3 * kdf.MIN_MEMORY_KIB, iterations=1)
    monkeypatch.setattr(vault_lifecycle, "_default_params", lambda: defaults)
    vault = Vault.open_with_recovery_key(env.vault_path, recovery, PASSPHRASE, **_kw(env))
    try:
        assert "without the vault key" in (vault.header_warning or "")
        assert (vault.info().kdf_memory_kib, vault.info().kdf_iterations) == (
            3 * kdf.MIN_MEMORY_KIB,
            1,
        )
    finally:
        vault.lock()
    for name in (HEADER, BACKUP):
        assert _kdf_of(env.vault_path / name)["memory_kib"] == 3 * kdf.MIN_MEMORY_KIB
    _open(env).lock()


def test_recover_does_not_keep_a_tampered_low_cost(env):
    """Issue 13: after `recover`, the new slot must not keep the cost an attacker wrote into
    vault.strongroom; it comes from the authenticated copy."""
    recovery = _new_vault(env, _costly())
    _rewrite(env.vault_path / HEADER, _lower_cost)
    vault = Vault.open_with_recovery_key(env.vault_path, recovery, PASSPHRASE, **_kw(env))
    try:
        info = vault.info()
        assert (info.kdf_memory_kib, info.kdf_iterations) == (2 * kdf.MIN_MEMORY_KIB, 2)
    finally:
        vault.lock()
    for name in (HEADER, BACKUP):
        k = _kdf_of(env.vault_path / name)
        assert (k["memory_kib"], k["iterations"]) == (2 * kdf.MIN_MEMORY_KIB, 2)


def test_wiped_recovery_slot_is_reported_by_check(env):
    """Issue 13: the recovery slot destroyed in both copies (checksum recomputed). The
    passphrase still opens, but the warning says so and `check` reports it, unrepaired,
    without needing the recovery key."""
    recovery = _new_vault(env)
    for name in (HEADER, BACKUP):
        if (env.vault_path / name).exists():
            _rewrite(env.vault_path / name, _wipe_recovery)
    vault = _open(env)
    try:
        report = vault.check()
        problems = [p for p in report.problems if p.part == "header"]
        assert problems and not report.ok
        assert any("recovery" in p.message for p in problems)
        assert not any(p.repaired for p in problems)
        assert "recovery" in (vault.header_warning or "")
    finally:
        vault.lock()
    with pytest.raises(WrongRecoveryKey):
        _recover(env, recovery)


def test_wiped_recovery_slot_in_one_copy_is_repaired(env):
    recovery = _new_vault(env)
    _rewrite(env.vault_path / HEADER, _wipe_recovery)
    vault = _open(env)
    assert "without the vault key" in (vault.header_warning or "")
    vault.lock()
    assert (env.vault_path / HEADER).read_bytes() == (env.vault_path / BACKUP).read_bytes()
    _recover(env, recovery).lock()


def test_recovery_slot_tampered_while_open_is_found_by_check(env):
    _new_vault(env)
    vault = _open(env)
    try:
        assert vault.check().ok
        _rewrite(env.vault_path / HEADER, _wipe_recovery)
        report = vault.check()
        (problem,) = [p for p in report.problems if p.part == "header"]
        assert "without the vault key" in problem.message and problem.repaired
        assert vault.check().ok
    finally:
        vault.lock()


def test_passwd_and_recover_keep_an_authenticated_cost(env):
    recovery = _new_vault(env, _costly())
    vault = _open(env)
    vault.change_passphrase(PASSPHRASE, NEW_PASSPHRASE)
    assert vault.info().kdf_iterations == 2
    vault.lock()
    vault = Vault.open_with_recovery_key(env.vault_path, recovery, PASSPHRASE, **_kw(env))
    assert vault.info().kdf_iterations == 2
    assert vault.header_warning is None
    vault.lock()


FIXTURE = Path(__file__).parent / "fixtures" / "vault-format1" / "Format1.strongroom"
FIXTURE_PASSPHRASE = "format 1 fixture passphrase"
FIXTURE_RECOVERY = "TKU7-KXXR-FNBG-FY4D-HYDF-ME5Y-WVDF-32BS-BXNB"


@pytest.mark.parametrize("how", ["passphrase", "recovery"])
def test_vault_made_by_format_1_is_upgraded(env, how):
    """A vault written by the previous release (tests/fixtures/vault-format1) opens, and its
    first unlock writes both header copies as format 2 with a verifying MAC."""
    shutil.copytree(FIXTURE, env.vault_path)
    assert (env.vault_path / HEADER).read_bytes().startswith(b"strongroom-vault/1\n")
    if how == "passphrase":
        vault = Vault.open(env.vault_path, FIXTURE_PASSPHRASE, **_kw(env))
    else:
        vault = Vault.open_with_recovery_key(
            env.vault_path,
            FIXTURE_RECOVERY,
            FIXTURE_PASSPHRASE,
            kdf_params=fast_params(),
            **_kw(env),
        )
    try:
        assert vault.read_bytes("/hello.txt") == b"made by Strongroom with vault format 1\n"
        assert vault.header_warning is None
        assert vault.info().format_version == 2
        report = vault.check()
        assert report.ok and report.header_copies_ok == 2
    finally:
        vault.lock()
    primary = (env.vault_path / HEADER).read_bytes()
    assert primary.startswith(b"strongroom-vault/2\n")
    assert (env.vault_path / BACKUP).read_bytes() == primary
    Vault.open(env.vault_path, FIXTURE_PASSPHRASE, **_kw(env)).lock()
    Vault.open_with_recovery_key(
        env.vault_path, FIXTURE_RECOVERY, FIXTURE_PASSPHRASE, kdf_params=fast_params(), **_kw(env)
    ).lock()


def test_downgrade_to_version_1_is_not_sealed(env):
    """Stripping the MAC (rewriting both copies as version 1) must not make an edit
    acceptable: once a vault has an authenticated header, a version 1 header is an edit."""
    recovery = _new_vault(env)
    for name in (HEADER, BACKUP):
        lines = (env.vault_path / name).read_bytes().split(b"\n")
        obj = json.loads(lines[1])
        _wipe_recovery(obj)
        body = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
        signed = b"strongroom-vault/1\n" + body + b"\n"
        (env.vault_path / name).write_bytes(
            signed + b"sha256:" + hashlib.sha256(signed).hexdigest().encode() + b"\n"
        )
    before = (env.vault_path / HEADER).read_bytes()
    vault = _open(env)
    try:
        assert "cannot be trusted" in (vault.header_warning or "")
        report = vault.check()
        assert not report.ok and report.header_copies_ok == 0
    finally:
        vault.lock()
    assert (env.vault_path / HEADER).read_bytes() == before  # not sealed, not rewritten
    with pytest.raises(WrongRecoveryKey):
        _recover(env, recovery)
