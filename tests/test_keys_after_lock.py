"""After lock, no key the process held is left in its memory (issue 13, low).

A child process opens a vault and uses every kind of key: the vault key, the database key
(and the hex text that keys SQLCipher), the history and kept-history keys, file keys (a
preview, an export, a copy for another app, a share), the identity secret and a group
secret. The test process, which derives the same keys independently from the passphrase
and a raw read of the database, then scans the child's writable memory through
/proc/PID/mem: first while the vault is open (the scan must find keys there, or it proves
nothing), then after `lock()` and `gc.collect()`, when it must find none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memscan_helpers import find_in_process
from strongroom.crypto import age
from strongroom.vault import keys
from strongroom.vault.formats.cards import LocalIdentity
from strongroom.vault.header import read_header
from vault_helpers import PASSPHRASE, Env, FakeClock, open_raw_db

TESTS = Path(__file__).parent
APP = TESTS.parent / "app"

CHILD = r"""
import gc, sys
from pathlib import Path
from strongroom.vault import Vault
from vault_helpers import PASSPHRASE, FakeClock
root = Path(sys.argv[1])
v = Vault.open(root / "A.strongroom", PASSPHRASE, clock=FakeClock(),
               config_dir=root / "config", temp_root=root / "run")
v.read_bytes("/small.txt")
v.export("/big.bin", root / "out.bin")
v.open_external("/small.txt")
v.my_card()
v.share(["/big.bin"], to=["bob"], out_dir=root / "shares")
v.add_group_member("team", "bob", out_dir=root / "shares")
print("open", flush=True)
sys.stdin.readline()
v.lock()
del v
gc.collect()
print("locked", flush=True)
sys.stdin.readline()
"""


def _age_payload_key(file_key: bytes, object_path: Path) -> bytes:
    nonce = object_path.read_bytes()[:16]
    return keys.hkdf(file_key, nonce, b"payload")


@pytest.fixture
def alice(tmp_path: Path) -> Env:
    bob = Env(
        tmp_path, tmp_path / "B.strongroom", tmp_path / "bconfig", tmp_path / "brun", FakeClock()
    )
    b, _ = bob.create()
    card = b.my_card().to_text()
    b.lock()
    env = Env(
        tmp_path, tmp_path / "A.strongroom", tmp_path / "config", tmp_path / "run", FakeClock()
    )
    v, _ = env.create()
    v.add_bytes("/", "small.txt", b"x" * 100)
    v.add_bytes("/", "big.bin", os.urandom(200_000))
    v.add_contact(card, "bob")
    v.create_group("team")
    v.lock()
    (tmp_path / "shares").mkdir()
    return env


def _needles(env: Env) -> dict[str, bytes]:
    header = read_header(env.vault_path / "vault.strongroom")
    vault_key = header.unlock_with_passphrase(PASSPHRASE)
    db_key = keys.db_key(vault_key, header.vault_id)
    out = {
        "vault key": vault_key,
        "database key": db_key,
        "database key text": db_key.hex().encode(),
        "history key": keys.history_key(vault_key, header.vault_id),
        "kept-history key": keys.kept_history_key(vault_key, header.vault_id),
        "header key": keys.header_key(vault_key, header.vault_id),
    }
    conn = open_raw_db(env.vault_path)
    try:
        rows = conn.execute(
            "SELECT i.name, c.file_key, c.object_id FROM file_contents c"
            " JOIN items i ON i.id = c.item_id"
        ).fetchall()
        for name, file_key, object_id in rows:
            out[f"file key of {name}"] = bytes(file_key)
            if object_id is not None:
                obj = next(env.vault_path.joinpath("objects").rglob(object_id + "*"))
                out[f"payload key of {name}"] = _age_payload_key(bytes(file_key), obj)
        (secret,) = conn.execute("SELECT secret FROM identity").fetchone()
        ident = LocalIdentity.from_secret_bytes(bytes(secret))
        out["identity secret"] = bytes(secret)[1:65]
        out["identity X25519 key"] = bytes(secret)[1:33]
        out["identity signing key"] = bytes(secret)[33:65]
        assert isinstance(ident.x25519, age.X25519Identity)
        for n, (group_secret,) in enumerate(conn.execute("SELECT secret FROM group_keys")):
            out[f"group secret {n}"] = bytes(group_secret)
    finally:
        conn.close()
    return out


def test_no_key_bytes_remain_in_memory_after_lock(alice: Env):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(APP), str(TESTS)]))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(alice.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout.readline().strip() == "open"
        needles = _needles(alice)
        assert any(k.startswith("group secret") for k in needles)
        while_open = find_in_process(child.pid, needles)
        # The scan can see keys: the ones the open vault holds are found.
        assert while_open["vault key"], while_open
        assert while_open["history key"], while_open
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "locked"
        after_lock = find_in_process(child.pid, needles)
        left = {name: where for name, where in after_lock.items() if where}
        assert left == {}, f"key bytes still in memory after lock: {left}"
    finally:
        child.stdin.close()
        child.wait(timeout=60)


PRAGMA_CHILD = r"""
import sys
from pathlib import Path
from vault_helpers import Env, FakeClock
root = Path(sys.argv[1])
env = Env(root, root / "V.strongroom", root / "c", root / "r", FakeClock())
v, _ = env.create()
try:
    print(v._ctx.connection.execute("PRAGMA cipher_memory_security").fetchone()[0])
finally:
    v.lock()
print(v._ctx.vault_key == bytearray() and v._ctx.history is None
      and v._ctx.backlog.kept is None)
"""


def test_sqlcipher_zeroes_the_memory_it_frees(tmp_path: Path):
    # What lets decrypted pages (file keys, identity and group secrets) and SQLCipher's own
    # copies of the key vanish at close: without it the scan above finds them in the heap.
    # In a fresh child: the setting is process-wide, and the test processes keep it off
    # (tests/conftest.py), so only a process that runs nothing but the real code shows
    # what the vault itself sets.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(APP), str(TESTS)]))
    child = subprocess.run(
        [sys.executable, "-c", PRAGMA_CHILD, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    pragma, wiped = child.stdout.split()
    assert pragma == "1"
    assert wiped == "True"
