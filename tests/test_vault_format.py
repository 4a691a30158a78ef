"""FORMAT.md §4 is enough to read a vault: an independent reader, plus strict header rules.

The reader below uses only argon2-cffi, cryptography and sqlcipher3 — no strongroom code —
so a change to the on-disk format that the document does not describe fails here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess

import pytest
import sqlcipher3
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.crypto import age
from strongroom.vault import NewerFormat, VaultDamaged, WrongPassphrase
from vault_helpers import PASSPHRASE, content_for, env, open_raw_db

__all__ = ["env"]


def _hkdf(ikm: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt, info).derive(ikm)


def _stream_decrypt(payload: bytes, file_key: bytes) -> bytes:
    """age v1 STREAM, from the age spec."""
    nonce, rest = payload[:16], payload[16:]
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    out = bytearray()
    chunks = [rest[i : i + 65536 + 16] for i in range(0, len(rest), 65536 + 16)] or [b""]
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        out += aead.decrypt(i.to_bytes(11, "big") + (b"\x01" if last else b"\x00"), chunk, None)
    return bytes(out)


def _independent_read(vault_path, passphrase: str, recovery_key: str | None = None):
    data = (vault_path / "vault.strongroom").read_bytes()
    assert (vault_path / "vault.strongroom.bak").read_bytes() == data  # the backup copy
    magic, body, mac_line, check, empty = data.split(b"\n")
    assert magic == b"strongroom-vault/2" and empty == b""
    summed = magic + b"\n" + body + b"\n" + mac_line + b"\n"
    assert check == b"sha256:" + hashlib.sha256(summed).hexdigest().encode()
    assert mac_line.startswith(b"hmac-sha256:")
    obj = json.loads(body)
    assert json.dumps(obj, sort_keys=True, separators=(",", ":")).encode() == body
    vault_id = bytes.fromhex(obj["vault_id"])
    k = obj["kdf"]
    kdf_json = json.dumps(k, sort_keys=True, separators=(",", ":")).encode()
    if recovery_key is None:
        stretched = hash_secret_raw(
            passphrase.encode(),
            base64.b64decode(k["salt"]),
            k["iterations"],
            k["memory_kib"],
            k["parallelism"],
            32,
            Type.ID,
        )
        kek = _hkdf(stretched, None, b"strongroom/v1/slot/passphrase")
        slot = obj["slots"]["passphrase"]
        # The slots' AD starts with "strongroom-vault/1\n" in every format version.
        ad = b"strongroom-vault/1\npassphrase\n" + obj["vault_id"].encode() + b"\n" + kdf_json
    else:
        raw = base64.b32decode("".join(recovery_key.split("-")[:8]))
        slot = obj["slots"]["recovery"]
        kek = _hkdf(raw, base64.b64decode(slot["salt"]), b"strongroom/v1/slot/recovery")
        ad = b"strongroom-vault/1\nrecovery\n" + obj["vault_id"].encode() + b"\n"
    vault_key = ChaCha20Poly1305(kek).decrypt(
        base64.b64decode(slot["nonce"]), base64.b64decode(slot["wrapped"]), ad
    )
    header_key = _hkdf(vault_key, vault_id, b"strongroom/v1/header-mac")
    want = hmac.new(header_key, magic + b"\n" + body + b"\n", hashlib.sha256).hexdigest()
    assert mac_line == b"hmac-sha256:" + want.encode()
    db_key = _hkdf(vault_key, vault_id, b"strongroom/v1/sqlcipher-key")
    conn = sqlcipher3.connect(str(vault_path / "vault.db"))
    conn.execute(f"PRAGMA key = \"x'{db_key.hex()}'\"")
    assert (
        conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()[0]
        == (obj["vault_id"])
    )
    folders = dict(
        (i, (p, n))
        for i, p, n in conn.execute("SELECT id, parent_id, name FROM items WHERE kind = 'folder'")
    )

    def path_of(folder_id):
        parts = []
        while folder_id != 1:
            folder_id, name = folders[folder_id][0], folders[folder_id][1]
            parts.append(name)
        return "/" + "/".join(reversed(parts))

    files = {}
    for parent, name, size, sha, file_key, object_id, inline in conn.execute(
        "SELECT i.parent_id, i.name, c.size, c.sha256, c.file_key, c.object_id, p.payload"
        " FROM items i JOIN file_contents c ON c.item_id = i.id"
        " LEFT JOIN inline_payloads p ON p.item_id = i.id"
    ):
        if object_id is None:
            payload = bytes(inline)
        else:
            payload = (vault_path / "objects" / object_id[:2] / object_id).read_bytes()
        assert len(payload) == 16 + size + 16 * max(1, -(-size // 65536))
        plain = _stream_decrypt(payload, bytes(file_key))
        assert hashlib.sha256(plain).digest() == bytes(sha)
        parent_path = path_of(parent)
        files[("" if parent_path == "/" else parent_path) + "/" + name] = (
            plain,
            bytes(file_key),
            payload,
        )
    conn.close()
    return files


SPEC = {"/a.txt": 5, "/d/empty": 0, "/d/inline-max": 65536, "/d/e/big.bin": 200_001}


def test_independent_reader(env):
    vault, recovery = env.create()
    vault.makedirs("/d/e")
    for path, size in SPEC.items():
        folder, name = path.rsplit("/", 1)
        vault.add_bytes(folder or "/", name, content_for(path, size))
    vault.lock()
    for files in (
        _independent_read(env.vault_path, PASSPHRASE),
        _independent_read(env.vault_path, PASSPHRASE, recovery_key=recovery),
    ):
        assert {p: f[0] for p, f in files.items()} == {
            p: content_for(p, s) for p, s in SPEC.items()
        }


@pytest.mark.skipif(shutil.which("age") is None, reason="the age CLI is not installed")
def test_stored_payload_is_standard_age(env, tmp_path):
    """Header + stored payload bytes, unchanged, decrypt with the reference `age` tool."""
    vault, _ = env.create()
    data = content_for("x", 150_000)
    vault.add_bytes("/", "x", data)
    vault.lock()
    _, file_key, payload = _independent_read(env.vault_path, PASSPHRASE)["/x"]
    identity = age.X25519Identity.generate()
    (tmp_path / "key.txt").write_text(str(identity) + "\n")
    (tmp_path / "x.age").write_bytes(age.make_header(file_key, [identity.recipient]) + payload)
    out = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "key.txt"), str(tmp_path / "x.age")],
        capture_output=True,
        check=True,
    )
    assert out.stdout == data


def _rewrite_header(path, mutate) -> None:
    """Apply `mutate` to the parsed body and write both header copies with a *valid*
    checksum (the MAC line is kept, so it no longer matches). `path` is the primary copy;
    both are rewritten, since one bad copy alone is survived (test_vault_header.py)."""
    magic, body, mac_line, _, _ = path.read_bytes().split(b"\n")
    obj = json.loads(body)
    result = mutate(obj)
    if isinstance(result, bytes):  # a mutation may replace the first line
        magic = result
    body = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    summed = magic + b"\n" + body + b"\n" + mac_line + b"\n"
    data = summed + b"sha256:" + hashlib.sha256(summed).hexdigest().encode() + b"\n"
    for copy in (path, path.with_name("vault.strongroom.bak")):
        copy.write_bytes(data)


def test_newer_format_is_reported(env):
    vault, _ = env.create()
    vault.lock()
    _rewrite_header(env.vault_path / "vault.strongroom", lambda o: b"strongroom-vault/3")
    with pytest.raises(NewerFormat, match="version 3"):
        env.open()


def test_newer_schema_is_reported(env):
    vault, _ = env.create()
    vault.lock()
    conn = open_raw_db(env.vault_path)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.close()
    with pytest.raises(NewerFormat):
        env.open()


def test_crafted_kdf_cost_is_refused_before_any_work(env):
    vault, _ = env.create()
    vault.lock()
    _rewrite_header(
        env.vault_path / "vault.strongroom",
        lambda o: o["kdf"].update(memory_kib=64 * 1024 * 1024),
    )
    with pytest.raises(VaultDamaged, match="out of bounds"):
        env.open()


def test_weakened_kdf_does_not_unlock(env):
    """The slot's associated data binds the Argon2id settings."""
    vault, _ = env.create()
    vault.lock()
    _rewrite_header(env.vault_path / "vault.strongroom", lambda o: o["kdf"].update(iterations=2))
    with pytest.raises(WrongPassphrase):
        env.open()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: o.update(extra=1),
        lambda o: o["slots"]["passphrase"].update(nonce="AAAA"),
        lambda o: o["slots"]["recovery"].pop("salt"),
        lambda o: o.update(vault_id="ABCDEF" * 5 + "AB"),
        lambda o: o["kdf"].update(iterations=True),
        lambda o: o["kdf"].update(salt="not base64!"),
    ],
)
def test_strict_header_fields(env, mutate):
    vault, _ = env.create()
    vault.lock()
    _rewrite_header(env.vault_path / "vault.strongroom", mutate)
    with pytest.raises(VaultDamaged) as info:
        env.open()
    assert info.value.part == "header"


def test_non_canonical_body_is_damage(env):
    vault, _ = env.create()
    vault.lock()
    path = env.vault_path / "vault.strongroom"
    magic, body, mac_line, _, _ = path.read_bytes().split(b"\n")
    body = json.dumps(json.loads(body), sort_keys=True, indent=1).replace("\n", "").encode()
    summed = magic + b"\n" + body + b"\n" + mac_line + b"\n"
    data = summed + b"sha256:" + hashlib.sha256(summed).hexdigest().encode() + b"\n"
    for copy in (path, path.with_name("vault.strongroom.bak")):
        copy.write_bytes(data)
    with pytest.raises(VaultDamaged, match="canonical"):
        env.open()
