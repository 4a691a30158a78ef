"""Write the seed corpus under tests/fixtures/fuzz/<harness>/: valid inputs made with the
harnesses' fixed keys, and broken ones (truncated, flipped, oversized, hostile costs).

Run from the repository root: ``python tests/fuzz/make_seeds.py``. Deterministic apart
from the random nonces and salts inside the formats; re-running rewrites the files.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harnesses import CARD, FILE_KEY, HARNESSES, IDENTITY, SIGNING
from strongroom.crypto import age, kdf
from strongroom.vault import header
from strongroom.vault.formats import cards, messages
from strongroom.vault.formats import share as share_format

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "fuzz"


def broken(data: bytes, oversize: int = 20 * 1024) -> dict[str, bytes]:
    """The usual damage: truncated in the middle and by one byte, a flipped byte near the
    start, middle and end, and a copy with ``oversize`` bytes appended."""
    n = len(data)
    out = {"truncated-half": data[: n // 2], "truncated-1": data[:-1]}
    for label, pos in (("start", min(25, n - 1)), ("middle", n // 2), ("end", n - 2)):
        flipped = bytearray(data)
        flipped[pos] ^= 0x41
        out[f"flipped-{label}"] = bytes(flipped)
    out["oversized"] = data + b"A" * oversize
    return out


def age_file(plaintext: bytes, *, armor: bool = False, scrypt: bool = False) -> bytes:
    out = io.BytesIO()
    recipients = [age.ScryptRecipient(b"fuzz", work_factor=2)] if scrypt else [IDENTITY.recipient]
    age.encrypt(io.BytesIO(plaintext), out, recipients, armor=armor)
    return out.getvalue()


def seeds() -> dict[str, dict[str, bytes]]:
    x25519 = age_file(b"hello fuzz\n")
    two_chunks = age_file(b"z" * (age.CHUNK_SIZE + 10))
    armored = age_file(b"armored\n", armor=True)
    scrypt = age_file(b"scrypt\n", scrypt=True)
    # A scrypt stanza claiming work factor 2^40: must be refused before any work.
    hostile_scrypt = scrypt.replace(b"scrypt ", b"scrypt ", 1)
    line_start = hostile_scrypt.index(b"-> scrypt ")
    line_end = hostile_scrypt.index(b"\n", line_start)
    parts = hostile_scrypt[line_start:line_end].split(b" ")
    hostile_scrypt = (
        hostile_scrypt[:line_start] + b" ".join([*parts[:-1], b"40"]) + hostile_scrypt[line_end:]
    )
    many_stanzas = age.VERSION_LINE + b"-> X25519 AAAA\nAAAA\n" * 1100 + b"--- AAAA\n"
    files = {
        "x25519": x25519,
        "two-chunks": two_chunks,
        "armored": armored,
        "armored-no-final-newline": armored.rstrip(b"\n"),
        "scrypt": scrypt,
        "hostile-scrypt-work-factor": hostile_scrypt,
        "too-many-stanzas": many_stanzas,
        **{f"x25519-{k}": v for k, v in broken(x25519).items()},
        **{f"armored-{k}": v for k, v in broken(armored).items() if k != "oversized"},
    }
    header_end = x25519.index(b"\n---") + 1
    header_end = x25519.index(b"\n", header_end) + 1
    age_headers = {k: v for k, v in files.items() if k != "two-chunks"}

    payload = io.BytesIO()
    age.encrypt_payload(io.BytesIO(b"payload " * 20), payload, FILE_KEY)
    payload_empty = io.BytesIO()
    age.encrypt_payload(io.BytesIO(b""), payload_empty, FILE_KEY)
    payloads = {
        "small": payload.getvalue(),
        "empty": payload_empty.getvalue(),
        **broken(payload.getvalue()),
        "other-key": x25519[header_end:],
    }

    content = b"shared fuzz content\n"
    manifest = share_format.Manifest.new(
        CARD,
        "report.txt",
        len(content),
        hashlib.sha256(content).digest(),
        [share_format.ManifestRecipient(IDENTITY.recipient, "Me", SIGNING.public_key)],
        receipts=True,
        now=1_700_000_000,
    )
    file_key = age.generate_file_key()
    share_header = share_format.build_share_header(
        file_key, [IDENTITY.recipient], manifest, SIGNING
    )
    share_payload = io.BytesIO()
    age.encrypt_payload(io.BytesIO(content), share_payload, file_key)
    share = share_header + share_payload.getvalue()
    shares = {"valid": share, "plain-age-file": x25519, **broken(share)}

    mbytes = manifest.encode()
    manifest_obj = json.loads(mbytes)
    manifests = {"valid": mbytes, **broken(mbytes)}
    manifest_fields = dict(manifest_obj)
    manifest_fields.pop("sender")
    resigned_manifests = {
        "valid-fields": json.dumps(manifest_fields).encode(),
        "negative-size": json.dumps({**manifest_fields, "size": -1}).encode(),
        "huge-size": json.dumps({**manifest_fields, "size": 2**80}).encode(),
        "bidi-name": json.dumps({**manifest_fields, "name": "a\u202egnp.exe"}).encode(),
        "no-recipients": json.dumps({**manifest_fields, "recipients": []}).encode(),
    }

    msgs: dict[str, bytes] = {}
    envelopes: dict[str, bytes] = {}
    bodies = {
        messages.KIND_REVOCATION: {"share": "0" * 32, "scope": "all", "recipients": []},
        messages.KIND_RECEIPT: {
            "share": "1" * 32,
            "event": "opened",
            "at": 1_700_000_000,
            "by": str(IDENTITY.recipient),
        },
        messages.KIND_GROUP_KEY: {
            "group": "2" * 32,
            "name": "Team",
            "epoch": 1,
            "secret": cards.b64url_encode(bytes(32)),
            "members": [str(IDENTITY.recipient)],
            "removed": [],
        },
    }
    for kind, body in bodies.items():
        sealed = messages.seal_message(kind, body, SIGNING, [IDENTITY.recipient], now=1_700_000_000)
        msgs[kind] = sealed
        msgs.update({f"{kind}-{k}": v for k, v in broken(sealed).items()})
        envelopes[kind] = json.dumps(
            {
                "v": 1,
                "kind": kind,
                "id": "3" * 32,
                "created": 1_700_000_000,
                "from": cards.b64url_encode(SIGNING.public_key.to_bytes()),
                "to": [str(IDENTITY.recipient)],
                "body": body,
            }
        ).encode()
    msgs["over-size-cap"] = msgs[messages.KIND_RECEIPT] + b"A" * messages.MAX_MESSAGE_SIZE
    envelopes["revocation-bad-scope"] = envelopes[messages.KIND_REVOCATION].replace(
        b'"all"', b'"some"'
    )

    card_file = CARD.to_file_text().encode()
    card_obj = json.loads(cards.b64url_decode(CARD.to_text()[len(cards.CARD_PREFIX) :], "card"))
    card_obj.pop("sig")
    card_fields = {
        "valid-fields": json.dumps(card_obj).encode(),
        "control-char-name": json.dumps({**card_obj, "name": "a\x07b"}).encode(),
        "low-order-key": json.dumps({**card_obj, "age": "age1" + "q" * 58}).encode(),
        "v2": json.dumps({**card_obj, "v": 2}).encode(),
    }

    params = kdf.Argon2idParams.new(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1)
    vault_header = header.new_header(bytes(32), "fuzz passphrase", params, bytes(32)).encode()
    # strongroom-vault/N, the body, (format 2) the MAC line, the checksum line, "".
    lines = vault_header.split(b"\n")
    signed_lines = lines[:-2]  # everything the checksum line covers

    def with_body(body_obj: dict) -> bytes:
        canonical = json.dumps(body_obj, separators=(",", ":"), sort_keys=True).encode()
        return b"\n".join([signed_lines[0], canonical, *signed_lines[2:]])

    hostile = []
    for field, value in (("memory_kib", 2**40), ("iterations", 10**9), ("parallelism", 2**24)):
        b = json.loads(lines[1])
        b["kdf"][field] = value
        hostile.append((field, with_body(b)))
    header_lines = b"\n".join(signed_lines)
    vault_headers = {"valid": vault_header, **broken(vault_header)}
    for field, data in hostile:
        digest = hashlib.sha256(data + b"\n").hexdigest().encode()
        vault_headers[f"hostile-{field}"] = data + b"\nsha256:" + digest + b"\n"
    rechecksummed = {"valid-lines": header_lines, **{f"hostile-{f}": d for f, d in hostile}}
    version = signed_lines[0].rsplit(b"/", 1)[1]
    rechecksummed["newer-version"] = header_lines.replace(
        b"/" + version + b"\n", b"/" + str(int(version) + 1).encode() + b"\n", 1
    )
    rechecksummed["empty-body"] = signed_lines[0] + b"\n{}"
    rechecksummed["no-mac-line"] = b"\n".join(signed_lines[:2])

    return {
        "age_header": {k: v[: header_end + 4096] for k, v in age_headers.items()},
        "age_payload": payloads,
        "age_file": files,
        "share": shares,
        "manifest": manifests,
        "manifest_resigned": resigned_manifests,
        "message": msgs,
        "message_resigned": envelopes,
        "card": {"valid": card_file, **broken(card_file)},
        "card_resigned": card_fields,
        "vault_header": vault_headers,
        "vault_header_rechecksummed": rechecksummed,
        "planted_bug": {"harmless": b"hello", "bug": b"BUG!"},
    }


def main() -> None:
    all_seeds = seeds()
    assert set(all_seeds) == set(HARNESSES) | {"planted_bug"}, "a harness has no seeds"
    for name, files in all_seeds.items():
        folder = ROOT / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for label, data in files.items():
            (folder / label).write_bytes(data)
    total = sum(len(v) for files in all_seeds.values() for v in files.values())
    print(f"wrote {sum(len(f) for f in all_seeds.values())} seeds, {total} bytes, to {ROOT}")


if __name__ == "__main__":
    main()
