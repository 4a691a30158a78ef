"""The fast everyday command line (issue 11 item 6): after `strongroom unlock`, `ls` loads
only what a listing needs, and `Vault.list` builds the same records as before, cheaply.

Timing is measured by benchmarks/cli_session.py (docs/PERFORMANCE.md), never asserted here:
these tests guard what makes it fast (what is imported, how many queries a listing runs)
and that being fast changed nothing a caller can see.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from cli_helpers import isolate_cli
from strongroom import cli
from strongroom.vault import FileRecord, FolderRecord, ItemNotFound, ListingRow, Vault
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
    # Only the named command's module (cli/args.py, _GROUPS): ls is in cli.commands.files.
    *(
        f"strongroom.cli.commands.{group}"
        for group in ("vault", "history", "contacts", "shares", "groups", "exchange", "keeping")
    ),
    "strongroom.cli.commands.edit",
    "strongroom.vault.sharing.shares",
    "strongroom.vault.sharing.access",
    "strongroom.vault.sharing.apply",
    "strongroom.vault.sharing.contacts",
    "strongroom.vault.sharing.groups",
    "strongroom.vault.sharing.receipts",
    "strongroom.vault.share_plan",
    # Sharing's start-up at open, skipped when one query finds nothing for it to do
    # (`Sharing.on_open`): my identity's keys, the inbox, the share and message formats.
    "strongroom.vault.sharing.identity",
    "strongroom.vault.sharing.inbox",
    "strongroom.vault.sharing.pending",
    "strongroom.vault.sharing.outbox",
    "strongroom.vault.sharing.exchange",
    "strongroom.vault.formats.cards",
    "strongroom.vault.formats.share",
    "strongroom.vault.formats.messages",
    "cryptography.hazmat.backends.openssl",
    # The records of sharing (their dataclasses: vault/share_records.py) and sharing's
    # common part (the catalog takes the shared folder's id from vault/context.py).
    "strongroom.vault.share_records",
    "strongroom.vault.sharing.common",
    # The services an open and a listing do not use, made on first use (`Vault._ingest`,
    # `_extract`, `_integrity`), and what only they (and `check`) need: the age format.
    "strongroom.vault.ingest",
    "strongroom.vault.extract",
    "strongroom.vault.exports",
    "strongroom.vault.ids",
    "strongroom.vault.streams",
    "strongroom.crypto.age",
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


# What a session `ls` prints, byte for byte (the listing's order, the size and time columns,
# escaped names, folders marked with "/"): pinned before the session path was made leaner.
# The time column is checked against the JSON listing (UTC) in a fixed +05:45 zone.
PINNED_FILES = {  # name on disk: size
    "b.txt": 0,
    "A.txt": 1023,
    "c.txt": 1024,
    "\u00c4pfel.txt": 1536,
    "zebra.bin": 70 * 1024 + 1,  # stored as an object, not inline
    "evil\x1b[2J.txt": 5,
    "back\\slash": 7,
    "\u202etxt.exe": 9,
    "tab\tname": 11,
    "apple": 3,
}
PINNED_LS = [  # (size column, name column) in the order `ls /pinned` prints them
    ("         -", "sub/"),
    ("         -", "Sub2/"),
    ("    1023 B", "A.txt"),
    ("       3 B", "apple"),
    ("       0 B", "b.txt"),
    ("       7 B", "back\\\\slash"),
    ("   1.0 KiB", "c.txt"),
    ("       5 B", "evil\\u{001B}[2J.txt"),
    ("      11 B", "tab\\u{0009}name"),
    ("  70.0 KiB", "zebra.bin"),
    ("   1.5 KiB", "\u00c4pfel.txt"),
    ("       9 B", "\\u{202E}txt.exe"),
]


def _pinned_tree(root: Path) -> Path:
    src = root / "pinned"
    (src / "sub").mkdir(parents=True)
    (src / "Sub2").mkdir()
    (src / "sub" / "inner.txt").write_text("x")
    for name, size in PINNED_FILES.items():
        (src / name).write_bytes(b"x" * size)
    return src


def test_session_ls_prints_exactly_this(session_vault, tmp_path, run):
    pw = ["--passphrase-file", tmp_path / "pw.txt"]
    code, _, err = run(*pw, "add", _pinned_tree(tmp_path / "t"))
    assert code == 0, err
    # The times each line must show: the JSON listing's UTC times, in UTC+05:45.
    zone = timezone(timedelta(hours=5, minutes=45))
    shown = {}
    for folder in ("/pinned", "/pinned/sub"):
        code, out, err = run(*pw, "ls", folder, "--json")
        assert code == 0, err
        for i in json.loads(out)["items"]:
            utc = datetime.fromisoformat(i["modified"].replace("Z", "+00:00"))
            shown[i["name"]] = utc.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    raw = {  # the printed name column back to the stored name
        "sub/": "sub",
        "Sub2/": "Sub2",
        "back\\\\slash": "back\\slash",
        "evil\\u{001B}[2J.txt": "evil\x1b[2J.txt",
        "tab\\u{0009}name": "tab\tname",
        "\\u{202E}txt.exe": "\u202etxt.exe",
    }
    expected = "".join(
        f"{size}  {shown[raw.get(name, name)]}  {name}\n" for size, name in PINNED_LS
    )
    child_env = {**session_vault, "TZ": "XST-05:45"}  # POSIX TZ: UTC+05:45, no tzdata needed
    rc, text, _ = _run_in_child(child_env, ["ls", "/pinned"])
    assert rc == 0
    assert text == expected
    rc, text, _ = _run_in_child(child_env, ["ls", "/pinned/sub"])
    assert (rc, text) == (0, f"       1 B  {shown['inner.txt']}  inner.txt\n")
    rc, text, _ = _run_in_child(child_env, ["ls", "/pinned/Sub2"])
    assert (rc, text) == (0, "")
    rc, text, _ = _run_in_child(child_env, ["ls", "/pinned/A.txt"])
    assert (rc, text) == (0, f"    1023 B  {shown['A.txt']}  A.txt\n")


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


def test_sharing_start_up_at_open_runs_exactly_when_it_has_something_to_do(
    env,  # noqa: F811
    monkeypatch,
):
    """`Sharing.on_open` runs `Exchange._sharing_on_open` when one of its steps has work
    (each row below), and skips it (no part module loaded) when none has."""
    from strongroom.vault.history import format_time
    from strongroom.vault.sharing.exchange import Exchange

    started = []
    monkeypatch.setattr(Exchange, "_sharing_on_open", lambda self: started.append(1))
    past = format_time(env.clock() - timedelta(days=1))
    future = format_time(env.clock() + timedelta(days=1))
    received = (
        "INSERT INTO received (share_id, signer, signed, name, stored_name, size, sha256,"
        " opened_by, forwarded, received, expires, receipts, status)"
        " VALUES (?, '', 0, 'n', 'n', 0, x'00', 'me', 0, ?, ?, 0, ?)"
    )
    cases = [
        ("nothing", None, False),
        ("a share that expires later", (received, ("a" * 32, past, future, "active")), False),
        ("a share that expired, revoked", (received, ("b" * 32, past, past, "revoked")), False),
        ("a share that expired", (received, ("c" * 32, past, past, "active")), True),
        ("no identity", ("DELETE FROM identity", ()), True),
        (
            "a share waiting for me",
            (
                "INSERT INTO pending_shares (share_id, signer, sender_card, name, size,"
                " opened_by, path, arrived, state) VALUES ('d', 's', 'c', 'n', 0, 'me',"
                " '/nowhere', ?, 'waiting')",
                (past,),
            ),
            True,
        ),
        (
            "a share I made",
            (
                "INSERT INTO shares (id, item_id, item_path, name, size, sha256, created,"
                " receipts, delivered) VALUES ('e', 1, '/x', 'x', 0, x'00', ?, 0, '/nowhere')",
                (past,),
            ),
            True,
        ),
        (
            "a message in the outbox",
            ("INSERT INTO outbox (kind, data, created) VALUES ('receipt', x'00', ?)", (past,)),
            True,
        ),
    ]
    for i, (what, change, runs) in enumerate(cases):
        case = dataclasses.replace(env, vault_path=env.root / f"case{i}.strongroom")
        vault, _ = case.create()
        if change is not None:
            with vault._ctx.write() as conn:
                conn.execute(*change)
        vault.lock()
        started.clear()
        case.open().lock()
        assert started == ([1] if runs else []), what


def test_vault_services_are_made_on_first_use_and_kept(env):  # noqa: F811
    vault, _ = env.create()
    try:
        assert not {"_ingest", "_extract", "_integrity"} & set(vars(vault))
        assert vault.info().file_count == 0  # the integrity service, and extract for it
        assert {"_ingest", "_extract", "_integrity"} <= set(vars(vault))
        assert vault._integrity is vault._integrity and vault._extract is vault._extract
        added = vault.add_bytes("/", "a.txt", b"abc")
        assert vault.read_bytes(added) == b"abc"
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


@pytest.mark.parametrize("n", [0, 40])
def test_list_rows_are_the_listed_records_in_their_order(env, n):  # noqa: F811
    vault, folder = _list_vault(env, n)
    try:
        for path in (folder, "/", f"{folder}/sub", f"{folder}/Sub2"):
            rows = vault.list_rows(path)
            assert rows == [
                ListingRow(r.name, r.is_folder, getattr(r, "size", None), r.modified)
                for r in vault.list(path)
            ]
            assert all(type(row) is ListingRow for row in rows)
            assert all(type(row.is_folder) is bool for row in rows)
        assert vault.list_rows(vault.item(folder)) == vault.list_rows(folder)
        with pytest.raises(ItemNotFound):
            vault.list_rows(f"{folder}/zebra")  # a file, like list
    finally:
        vault.lock()


def test_ls_prints_from_rows_and_json_from_records(run, session_vault, tmp_path, monkeypatch):
    """`ls` builds no record per child for its lines (`Vault.list_rows`); `ls --json`,
    whose items carry every field, still lists the records."""
    pw = ["--passphrase-file", tmp_path / "pw.txt"]
    real_list = Vault.list

    def no_records(self, *a, **kw):
        raise AssertionError("ls built the records")

    monkeypatch.setattr(Vault, "list", no_records)
    code, out, err = run(*pw, "ls", "/docs")
    assert code == 0, err
    assert [line.split()[-1] for line in out.splitlines()] == ["A.txt", "b.txt", "c.txt"]
    monkeypatch.setattr(Vault, "list", real_list)
    monkeypatch.setattr(Vault, "list_rows", no_records)
    code, out, err = run(*pw, "ls", "/docs", "--json")
    assert code == 0, err
    assert [i["name"] for i in json.loads(out)["items"]] == ["A.txt", "b.txt", "c.txt"]


def test_a_listing_runs_the_same_few_queries_for_any_folder_size(env):  # noqa: F811
    vault, folder = _list_vault(env, 60)
    try:
        vault.list("/")  # the folder map is read once per open; not counted below
        counts = []
        for path in (folder, f"{folder}/sub", f"{folder}/Sub2"):  # 65, 1 and 0 children
            record = vault.item(path)
            for verb in (vault.list, vault.list_rows):
                statements: list[str] = []
                vault._ctx.connection.set_trace_callback(statements.append)
                try:
                    verb(record)
                finally:
                    vault._ctx.connection.set_trace_callback(None)
                counts.append(len(statements))
        assert counts == [2] * 6, counts  # the folder by id, then its children
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
