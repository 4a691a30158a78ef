"""Names at the 255-byte limit export (issue 13, low): the hidden build name no longer
overflows NAME_MAX, and where the destination allows fewer bytes than the vault name the
name is shortened (extension kept) and the result says so."""

from __future__ import annotations

from cli_helpers import isolate_cli
from strongroom import cli
from strongroom.vault import extract as vault_extract
from strongroom.vault import fsutil
from strongroom.vault.names import fit_name
from vault_helpers import PASSPHRASE, env

__all__ = ["env"]

LONG_FILE = "a" * 251 + ".txt"  # 255 bytes
LONG_FOLDER = "f" * 255


def test_a_255_byte_file_name_exports_under_its_own_name(env, tmp_path):
    v, _ = env.create()
    v.add_bytes("/", LONG_FILE, b"hello")
    out = tmp_path / "out"
    out.mkdir()
    result = v.export_with_report("/" + LONG_FILE, out / LONG_FILE)
    assert result.path == out / LONG_FILE
    assert result.shortened == ()
    assert result.note is None
    assert (out / LONG_FILE).read_bytes() == b"hello"
    assert v.export("/" + LONG_FILE, out / "again.txt") == out / "again.txt"
    v.lock()


def test_a_255_byte_folder_name_exports(env, tmp_path):
    v, _ = env.create()
    v.mkdir("/", LONG_FOLDER)
    v.add_bytes("/" + LONG_FOLDER, LONG_FILE, b"inside")
    out = tmp_path / "out"
    out.mkdir()
    written = v.export("/" + LONG_FOLDER, out / LONG_FOLDER)
    assert (written / LONG_FILE).read_bytes() == b"inside"
    # Replacing it builds the old copy aside under another bounded hidden name.
    v.export("/" + LONG_FOLDER, out / LONG_FOLDER, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [LONG_FOLDER]
    v.lock()


def test_names_too_long_for_the_destination_are_shortened_with_a_note(env, tmp_path, monkeypatch):
    # A file system with a lower limit (eCryptfs allows 143 bytes): shorten, keep extension.
    monkeypatch.setattr(vault_extract, "name_max", lambda _folder: 143)
    v, _ = env.create()
    v.mkdir("/", LONG_FOLDER)
    v.add_bytes("/" + LONG_FOLDER, LONG_FILE, b"inside")
    v.add_bytes("/" + LONG_FOLDER, "short.txt", b"short")
    out = tmp_path / "out"
    out.mkdir()
    result = v.export_with_report("/" + LONG_FOLDER, out / LONG_FOLDER)
    top = result.path
    assert top.parent == out and len(top.name.encode()) <= 143
    inner = [p.name for p in top.iterdir()]
    assert "short.txt" in inner
    (long_written,) = [n for n in inner if n != "short.txt"]
    assert long_written.endswith(".txt") and len(long_written.encode()) <= 143
    assert (top / long_written).read_bytes() == b"inside"
    assert {s.vault_path for s in result.shortened} == {
        "/" + LONG_FOLDER,
        f"/{LONG_FOLDER}/{LONG_FILE}",
    }
    assert result.note is not None and "shortened" in result.note
    v.lock()


def test_fit_name_keeps_the_extension_and_utf8_boundaries():
    assert fit_name("short.txt", 255) == "short.txt"
    name = "é" * 126 + ".pdf"  # 256 bytes
    short = fit_name(name, 255)
    assert short.endswith(".pdf") and len(short.encode()) <= 255
    short.encode().decode()  # still valid UTF-8
    assert fit_name(name, 255) == short  # deterministic
    assert fit_name("é" * 126 + ".doc", 255) != fit_name("é" * 126 + ".pdf", 255)
    # Two names sharing a long prefix do not collide once shortened.
    assert fit_name("x" * 300 + "1.txt", 100) != fit_name("x" * 300 + "2.txt", 100)
    # An "extension" as long as the name is not kept whole.
    assert len(fit_name("." + "z" * 300, 50).encode()) <= 50


def test_tmp_name_fits_the_name_limit():
    assert len(fsutil.tmp_name(LONG_FILE).encode()) <= 255
    assert fsutil.tmp_name("short.txt").startswith(".short.txt.tmp-")


def test_cli_get_of_a_255_byte_name_into_a_folder(tmp_path, monkeypatch, capsysbinary):
    isolate_cli(tmp_path, monkeypatch)
    pw = tmp_path / "pw"
    pw.write_text(PASSPHRASE + "\n")
    pw.chmod(0o600)
    vault = tmp_path / "V.strongroom"
    base = ["--vault", str(vault), "--passphrase-file", str(pw)]
    kdf = ["--kdf-memory", "8", "--kdf-iterations", "1"]
    assert cli.main(["init", *base, *kdf]) == 0
    src = tmp_path / LONG_FILE
    src.write_bytes(b"payload")
    assert cli.main(["add", *base, str(src)]) == 0
    out = tmp_path / "out"
    out.mkdir()
    capsysbinary.readouterr()
    monkeypatch.setattr(vault_extract, "name_max", lambda _folder: 143)
    assert cli.main(["get", *base, "/" + LONG_FILE, str(out)]) == 0
    err = capsysbinary.readouterr().err.decode()
    (written,) = list(out.iterdir())
    assert written.read_bytes() == b"payload" and written.name.endswith(".txt")
    assert "shortened" in err and written.name in err


def test_open_external_of_a_255_byte_name(env):
    v, _ = env.create()
    v.add_bytes("/", LONG_FILE, b"x")
    path = v.open_external("/" + LONG_FILE)
    assert path.read_bytes() == b"x" and path.name.endswith(".txt")
    v.lock()
