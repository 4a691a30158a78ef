"""The fast everyday command line (issue 11 item 6): after `strongroom unlock`, `ls` loads
only what a listing needs, and `Vault.list` builds the same records as before, cheaply.

Timing is measured by benchmarks/cli_session.py (docs/PERFORMANCE.md), never asserted here:
these tests guard what makes it fast (what is imported, how many queries a listing runs)
and that being fast changed nothing a caller can see.
"""

from __future__ import annotations

import dataclasses
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from cli_helpers import isolate_cli
from strongroom import cli
from strongroom.vault import FileRecord, FolderRecord, Vault
from strongroom.vault.history import format_time, parse_time
from vault_helpers import env  # noqa: F401  (fixture)

APP = Path(__file__).resolve().parents[1] / "app"
SECRET = "fast-cli passphrase 41c7"
FAST_KDF = ["--kdf-memory", "8", "--kdf-iterations", "1"]

# What a session `ls` must not load: the GUI; the key derivation (a session skips it); the
# passphrase-strength rule; CSV history export; cryptography's key-file loaders (SSH, PEM);
# thread pools and logging (only big payloads and listener errors need them); and the
# `ldconfig` child process that ctypes.util.find_library runs; the sharing parts an open does
# not use (each imported on first use: vault/sharing/service.py, verbs.py).
NOT_FOR_A_SESSION_LS = (
    "PySide6",
    "shiboken6",
    "strongroom.gui",
    "argon2",
    "_argon2_cffi_bindings",
    "strongroom.vault.passphrase_policy",
    "zxcvbn",
    "csv",
    "cryptography.hazmat.primitives.serialization",
    "concurrent.futures",
    "logging",
    "ctypes.util",
    "subprocess",
    "strongroom.vault.sharing.shares",
    "strongroom.vault.sharing.access",
    "strongroom.vault.sharing.apply",
    "strongroom.vault.sharing.contacts",
    "strongroom.vault.sharing.groups",
    "strongroom.vault.sharing.receipts",
    "strongroom.vault.share_plan",
)


@pytest.fixture
def run(tmp_path, monkeypatch, capsysbinary):
    isolate_cli(tmp_path, monkeypatch)

    def _run(*argv: object) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsysbinary.readouterr()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    return _run


@pytest.fixture
def session_vault(tmp_path, run, monkeypatch) -> dict[str, str]:
    """A vault with a few files and a live unlock session; the environment a child process
    needs to use it (no passphrase in it)."""
    from strongroom.cli import session

    monkeypatch.setattr(session, "_on_ram_fs", lambda path: True)  # tmp_path is on disk
    path = tmp_path / "v.strongroom"
    pw = tmp_path / "pw.txt"
    pw.write_text(SECRET + "\n")
    pw.chmod(0o600)
    code, _, err = run("--vault", path, "--passphrase-file", pw, "init", *FAST_KDF)
    assert code == 0, err
    src = tmp_path / "docs"
    src.mkdir()
    for name in ("b.txt", "A.txt", "c.txt"):
        (src / name).write_text(name)
    monkeypatch.setenv("STRONGROOM_VAULT", str(path))
    code, _, err = run("--passphrase-file", pw, "add", src)
    assert code == 0, err
    code, out, err = run("--passphrase-file", pw, "unlock")
    assert code == 0, err
    token = out.strip().split("=", 1)[1]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    child_env.update(
        PYTHONPATH=str(APP),
        STRONGROOM_VAULT=str(path),
        STRONGROOM_SESSION=token,
    )
    return child_env


def _run_in_child(child_env: dict[str, str], argv: list[str]) -> tuple[int, str, list[str]]:
    """Run `strongroom ARGV` in a fresh interpreter (as `python -m strongroom` does) and
    return its exit code, stdout and the modules it had loaded at the end."""
    code = (
        "import io, json, sys\n"
        "from strongroom.cli import session\n"
        "session._on_ram_fs = lambda path: True  # the test's runtime folder is on disk\n"
        "from strongroom.__main__ import main\n"
        "out, sys.stdout = sys.stdout, io.StringIO()\n"
        f"rc = main({argv!r})\n"
        "text, sys.stdout = sys.stdout.getvalue(), out\n"
        "print(json.dumps([rc, text, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    import json

    rc, text, modules = json.loads(done.stdout)
    return rc, text, modules


def _unwanted(modules: list[str]) -> list[str]:
    return [
        m for m in modules if any(m == p or m.startswith(p + ".") for p in NOT_FOR_A_SESSION_LS)
    ]


def test_session_ls_loads_only_what_a_listing_needs(session_vault):
    rc, text, modules = _run_in_child(session_vault, ["ls", "/docs"])
    assert rc == 0
    assert [line.split()[-1] for line in text.splitlines()] == ["A.txt", "b.txt", "c.txt"]
    assert "strongroom.vault.api" in modules  # the real vault was opened (with the session)
    assert _unwanted(modules) == [], "a session ls loaded these"


def test_the_import_guard_can_fail():
    found = _unwanted(["json", "argon2.low_level", "strongroom.gui.app", "loggingx", "logging"])
    assert found == ["argon2.low_level", "strongroom.gui.app", "logging"]


def test_importing_the_vault_package_loads_no_submodule_until_asked():
    code = (
        "import sys, strongroom.vault as v\n"
        "before = sorted(m for m in sys.modules if m.startswith('strongroom.vault.'))\n"
        "v.ItemNotFound\n"
        "after = sorted(m for m in sys.modules if m.startswith('strongroom.vault.'))\n"
        "print(before, after)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(APP)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] ['strongroom.vault.errors']"


def test_every_public_vault_name_resolves_to_its_module():
    import ast
    import importlib

    import strongroom.vault as pkg

    # The names static scanners see (the TYPE_CHECKING imports) are the ones `_LAZY` resolves.
    tree = ast.parse(Path(pkg.__file__).read_text(encoding="utf-8"))
    guarded = next(n for n in tree.body if isinstance(n, ast.If))
    imported = {
        alias.name: node.module
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == pkg._LAZY
    assert set(pkg._LAZY) == set(pkg.__all__)
    for name in pkg.__all__:
        module = importlib.import_module(f"strongroom.vault.{pkg._LAZY[name]}")
        assert getattr(pkg, name) is getattr(module, name), name
    assert set(pkg.__all__) <= set(dir(pkg))
    with pytest.raises(AttributeError):
        pkg.NoSuchName
    # A submodule that is not a public name still imports as a submodule.
    from strongroom.vault import names

    assert names.join("/a", "b") == "/a/b"


def test_every_public_sharing_name_resolves_to_its_module():
    import importlib

    import strongroom.vault.sharing as pkg

    assert set(pkg._LAZY) == set(pkg.__all__)
    for name in pkg.__all__:
        module = importlib.import_module(pkg._LAZY[name], pkg.__name__)
        assert getattr(pkg, name) is getattr(module, name), name
    assert set(pkg.__all__) <= set(dir(pkg))
    with pytest.raises(AttributeError):
        pkg.NoSuchName


def test_a_command_line_builds_the_parser_once(tmp_path, run, monkeypatch):
    import strongroom.__main__ as entry
    from strongroom.cli import args

    built = []
    real = args.build_parser

    def counting(*argv):
        built.append(1)
        return real(*argv)

    monkeypatch.setattr(args, "build_parser", counting)
    monkeypatch.setattr(cli, "build_parser", counting)
    assert entry.main(["--vault", str(tmp_path / "none"), "ls"]) != 0
    assert entry.main(["ls", "/"]) == 2  # no vault given: a usage error, after parsing
    assert len(built) == 2  # one per command line, in cli.main
    # A file named like a command is still the command (the parser decides that).
    (tmp_path / "ls").write_text("")
    monkeypatch.chdir(tmp_path)
    assert entry._gui_paths(["ls"]) is None
    assert entry._gui_paths([str(tmp_path / "ls")]) == [str(tmp_path / "ls")]


def _subcommands(parser) -> list[str]:
    import argparse

    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


def test_a_command_line_builds_only_its_commands_sub_parser():
    from strongroom.cli import args

    everything = _subcommands(args.build_parser())
    assert len(everything) > 25 and "ls" in everything
    for argv, only in [
        (["ls", "/big"], ["ls"]),
        (["--vault", "v", "ls"], ["ls"]),
        (["--vault=v", "--passphrase-file", "-", "contacts", "list"], ["contacts"]),
        (["--", "ls"], ["ls"]),
        # The full parser answers these: help, version, no or an unknown command, an
        # abbreviated option.
        (["--help"], everything),
        (["--version"], everything),
        (["--vault", "v"], everything),
        (["lss"], everything),
        (["--vau", "v", "ls"], everything),
    ]:
        assert _subcommands(args.build_parser(argv)) == only, argv


@pytest.mark.parametrize(
    "argv",
    [
        ["ls", "/big", "--json"],
        ["--vault", "v", "ls"],
        ["--vault=v", "ls", "--passphrase-file", "pw"],
        ["--passphrase-file", "-", "--vault", "v", "find", "x*", "--limit", "3"],
        ["contacts", "list"],
        ["ls", "--", "-odd"],
    ],
)
def test_the_one_sub_parser_reads_a_command_line_as_the_full_parser_does(argv):
    from strongroom.cli import args

    assert args.build_parser(argv).parse_args(argv) == args.build_parser().parse_args(argv)


@pytest.mark.parametrize(
    "argv", [["ls", "--bogus"], ["--vault"], ["lss"], ["ls", "--help"], ["contacts"]]
)
def test_the_one_sub_parser_gives_the_full_parsers_help_and_errors(argv, capsys):
    from strongroom.cli import args

    said = []
    for parser in (args.build_parser(argv), args.build_parser()):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(argv)
        said.append((exc.value.code, *capsys.readouterr()))
    assert said[0] == said[1]


def test_sharing_verbs_made_on_first_use_keep_their_signature_and_docs(env):  # noqa: F811
    import inspect

    from strongroom.vault.sharing.receipts import Receipts
    from strongroom.vault.sharing.shares import Shares

    assert inspect.signature(Vault.share) == inspect.signature(Shares.share)
    assert Vault.share.__doc__ == Shares.share.__doc__ and Vault.share.__name__ == "share"
    assert isinstance(Vault.receipts_policy, property)
    assert Vault.receipts_policy.__doc__ == Receipts.receipts_policy.__doc__
    # Once read, the real verb is in place.
    assert isinstance(inspect.getattr_static(Vault, "receipts_policy"), property)
    vault, _ = env.create()
    try:
        assert vault.contacts() == []
        assert vault._sharing.contacts is vault._sharing.contacts  # made once, kept
        with pytest.raises(AttributeError):
            vault.exchange_folder = "x"  # type: ignore[misc]  (read-only, as before)
        vault.groups = lambda: ["replaced"]  # type: ignore[method-assign]  (tests do this)
        assert vault.groups() == ["replaced"]
        with pytest.raises(AttributeError):
            vault._sharing.no_such_part
    finally:
        vault.lock()


# ----- Vault.list -------------------------------------------------------------------------


def _list_vault(env, n: int) -> tuple[Vault, str]:  # noqa: F811
    vault, _ = env.create()
    src = env.root / "many"
    src.mkdir()
    rng = random.Random(n)
    names = {f"File-{i:04d}.TXT" if i % 3 else f"file-{i:04d}.txt" for i in range(n)}
    names |= {"apple", "Apple", "zebra", "Äpfel", "a" * 200}
    for name in names:
        # Some inline, one stored as an object (larger than INLINE_MAX).
        size = 70 * 1024 if name == "zebra" else rng.randrange(0, 3000)
        (src / name).write_bytes(os.urandom(size))
    (src / "sub").mkdir()
    (src / "sub" / "inner.txt").write_text("x")
    (src / "Sub2").mkdir()
    vault.add_paths([src])
    return vault, "/many"


@pytest.mark.parametrize("n", [0, 40])
def test_list_gives_the_records_item_gives_in_the_documented_order(env, n):  # noqa: F811
    vault, folder = _list_vault(env, n)
    try:
        listed = vault.list(folder)
        # The same records, field for field, as the one-item path (the dataclass __init__).
        assert listed == [vault.item(r.id) for r in listed]
        for record in listed:
            assert vars(record) == vars(vault.item(record.id))
            assert hash(record) == hash(vault.item(record.id))
            assert repr(record) == repr(vault.item(record.id))
            with pytest.raises(dataclasses.FrozenInstanceError):
                record.name = "changed"  # type: ignore[misc]
        # Folders first, then files; by name ignoring case, then by exact name.
        key = [(not r.is_folder, r.name.casefold(), r.name) for r in listed]
        assert key == sorted(key)
        assert [r.name for r in listed if r.is_folder] == ["sub", "Sub2"]
        files = [r for r in listed if not r.is_folder]
        assert {r.inline for r in files} == {True, False}
        assert all(r.path == f"{folder}/{r.name}" for r in listed)
        assert vault.list("/") == [vault.item(folder)]
    finally:
        vault.lock()


def test_a_listing_runs_the_same_few_queries_for_any_folder_size(env):  # noqa: F811
    vault, folder = _list_vault(env, 60)
    try:
        vault.list("/")  # the folder map is read once per open; not counted below
        counts = []
        for path in (folder, f"{folder}/sub", f"{folder}/Sub2"):  # 65, 1 and 0 children
            record = vault.item(path)
            statements: list[str] = []
            vault._ctx.connection.set_trace_callback(statements.append)
            try:
                vault.list(record)
            finally:
                vault._ctx.connection.set_trace_callback(None)
            counts.append(len(statements))
        assert counts == [2, 2, 2], counts  # the folder by id, then its children
    finally:
        vault.lock()


def test_listing_records_match_the_dataclasses_they_bypass():
    """vault/listing.py fills FileRecord's __dict__ directly: valid only while the record is
    a plain frozen dataclass with exactly these fields, no __post_init__ and no slots."""
    assert [f.name for f in dataclasses.fields(FileRecord)] == [
        "id",
        "parent_id",
        "name",
        "path",
        "size",
        "sha256",
        "created",
        "modified",
        "inline",
    ]
    for cls in (FileRecord, FolderRecord):
        assert not hasattr(cls, "__post_init__")
        assert "__slots__" not in vars(cls)
        assert cls.__dataclass_params__.frozen


def test_parse_time_reads_what_format_time_writes():
    rng = random.Random(7)
    base = datetime(1970, 1, 1, tzinfo=UTC)
    for _ in range(2000):
        t = base + timedelta(microseconds=rng.randrange(0, 200 * 365 * 86400 * 10**6))
        parsed = parse_time(format_time(t))
        assert parsed == t and parsed.tzinfo is UTC
    for bad in ("2026-12-07T04:07:01+01:00:0Z", "2026-12-07T04:07:01.123456", "x" * 26 + "Z"):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_ls_text_is_each_items_ls_line():
    """`ls` formats a listing in one pass with the size and time columns cached: the text
    is what formatting each item on its own gives."""
    from strongroom.cli.commands.files import _ls_line, _ls_text

    rng = random.Random(3)
    base = datetime(2026, 3, 29, 0, 59, 58, tzinfo=UTC)  # around a DST change
    times = [base + timedelta(seconds=rng.randrange(0, 7200)) for _ in range(5)]
    times.append(times[0].astimezone(timezone(timedelta(hours=5))))  # same instant
    names = ["a.txt", "evil\x1b[2J", "back\\slash", "Äpfel", "\u202etxt.exe", "tab\tname", " "]
    items: list[object] = []
    for i in range(300):
        name = f"{rng.choice(names)}-{i}"
        when = rng.choice(times)
        if i % 7 == 0:
            items.append(FolderRecord(i, 1, name, f"/f/{name}", when, when))
        else:
            size = rng.choice([0, 1, 1023, 1024, 1536, 10**6, 5 * 2**40, rng.randrange(10**9)])
            items.append(
                FileRecord(i, 1, name, f"/f/{name}", size, b"\0" * 32, when, when, i % 2 == 0)
            )
    assert _ls_text(items) == "".join(_ls_line(item) + "\n" for item in items)
    assert _ls_text([]) == ""
