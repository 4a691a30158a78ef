"""Crash safety and cross-process locking, with real child processes killed by SIGKILL.

A child opens the vault and performs random operations (add a file, add a folder of files
in one call, delete, rename, change the passphrase), printing a "begin" line before and a
"commit" line after each. The parent kills it at a random moment, then checks that the
vault opens, `check()` passes, the history verifies, and the files are exactly those of the
committed operations — the one in flight either fully applied or not at all.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from strongroom.vault import Vault, VaultInUse, WrongPassphrase
from vault_helpers import PASSPHRASE, content_for, env, fast_params

V = TypeVar("V")

__all__ = ["env"]

# SIGKILLs at random moments: 25 in `make test`, 100 in `make torture` (STRONGROOM_TORTURE=1);
# STRONGROOM_CRASH_RUNS sets the number.
_DEFAULT_RUNS = "100" if os.environ.get("STRONGROOM_TORTURE") == "1" else "25"
RUNS = int(os.environ.get("STRONGROOM_CRASH_RUNS", _DEFAULT_RUNS))
OTHER_PASSPHRASE = "another passphrase"


def _child_main(
    vault_path: str, cfg: str, run_root: Path, seed: int, pw_a: str, pw_b: str, out_fd: int
) -> None:
    """The victim: random operations, announcing each before ("b") and after commit ("c")."""
    rng = random.Random(seed)

    def say(obj: dict) -> None:
        os.write(out_fd, (json.dumps(obj) + "\n").encode())  # one write per line: atomic

    try:
        v = Vault.open(vault_path, pw_a, config_dir=cfg, temp_root=run_root / "tmp")
        pw = pw_a
    except WrongPassphrase:
        v = Vault.open(vault_path, pw_b, config_dir=cfg, temp_root=run_root / "tmp")
        pw = pw_b
    src = run_root / "src"
    src.mkdir(parents=True, exist_ok=True)
    say({"ready": True})
    for i in range(10_000):
        tops = [item.name for item in v.list("/")]
        r = rng.random()
        if r < 0.45 or len(tops) < 3:
            name = f"f{seed}-{i}"
            size = rng.choice([0, 1, 100, 4096, 65536, 65537, 150_000, 300_000])
            (src / name).write_bytes(content_for("/" + name, size))
            say({"b": "add", "name": name, "size": size})
            v.add_paths([src / name], "/")
        elif r < 0.60:
            name = f"d{seed}-{i}"
            folder = src / name
            folder.mkdir()
            sizes = {f"g{j}": rng.choice([10, 2000, 70_000]) for j in range(rng.randrange(1, 25))}
            for fname, size in sizes.items():
                (folder / fname).write_bytes(content_for(f"/{name}/{fname}", size))
            say({"b": "addfolder", "name": name, "sizes": sizes})
            v.add_paths([folder], "/")
        elif r < 0.78:
            victim = rng.choice(tops)
            say({"b": "del", "name": victim})
            v.delete("/" + victim)
        elif r < 0.95:
            old = rng.choice(tops)
            new = f"r{seed}-{i}"
            say({"b": "ren", "old": old, "new": new})
            v.rename("/" + old, new)
        else:
            new_pw = pw_b if pw == pw_a else pw_a
            say({"b": "pw", "new": new_pw})
            v.change_passphrase(pw, new_pw)
            pw = new_pw
        say({"c": True})


CHILD = r"""
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[7])
from test_vault_crash import _child_main
_child_main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
            sys.argv[6], 1)
"""


def _replay(mapping: dict[str, V], op: dict, value: Callable[[str, int], V]) -> dict[str, V]:
    """`mapping` (vault path -> V) after `op`; a file that `op` adds gets `value(path, size)`.
    Deleting drops a path and what is below it; renaming moves them."""
    new = dict(mapping)
    kind = op["b"]
    if kind == "add":
        path = "/" + op["name"]
        new[path] = value(path, op["size"])
    elif kind == "addfolder":
        for fname, size in op["sizes"].items():
            path = f"/{op['name']}/{fname}"
            new[path] = value(path, size)
    elif kind == "del":
        top = "/" + op["name"]
        new = {p: v for p, v in new.items() if p != top and not p.startswith(top + "/")}
    elif kind == "ren":
        old, repl = "/" + op["old"], "/" + op["new"]
        new = {
            (repl + p[len(old) :] if p == old or p.startswith(old + "/") else p): v
            for p, v in new.items()
        }
    return new


def _apply(state: dict[str, int], op: dict) -> dict[str, int]:
    """Expected files (vault path -> size) after `op`. Contents are derived from the
    original path, so renamed files remember where they came from via `origin`."""
    return _replay(state, op, lambda path, size: size)


def _origins(origin: dict[str, str], op: dict) -> dict[str, str]:
    """Where each file (vault path -> original path) came from after `op`."""
    return _replay(origin, op, lambda path, size: path)


def _vault_files(vault: Vault) -> dict[str, int]:
    return {i.path: i.size for i in vault.walk("/") if not i.is_folder}


def _run_child(env, run: int, tmp_path: Path) -> list[dict]:
    """Start a victim, let it work for a random moment after it is ready, SIGKILL it.

    Most victims are forked from this (already imported) process, which keeps 50 runs fast;
    every fifth is a fresh interpreter started with subprocess, the most faithful setup.
    """
    run_root = tmp_path / f"run{run}"
    args = (str(env.vault_path), str(env.config_dir), run_root, run, PASSPHRASE, OTHER_PASSPHRASE)
    read_fd, write_fd = os.pipe()
    proc = None
    if run % 5 == 0:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, *map(str, args), str(Path(__file__).parent)],
            stdout=write_fd,
            stderr=subprocess.DEVNULL,
        )
        pid = proc.pid
    else:
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            code = 0
            try:
                os.close(read_fd)
                _child_main(*args, write_fd)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
    os.close(write_fd)
    lines: list[dict] = []
    ready = threading.Event()

    def reader() -> None:
        with os.fdopen(read_fd, "r") as stream:
            for line in stream:
                obj = json.loads(line)
                lines.append(obj)
                if obj.get("ready"):
                    ready.set()
        ready.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    assert ready.wait(60), "child hung before it was ready"
    time.sleep(random.Random(run).uniform(0.0, 0.4))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if proc is not None:
        proc.returncode = -signal.SIGKILL  # reaped above; keep Popen from waiting again
    t.join(10)
    if not os.WIFSIGNALED(status):  # the child died on its own: it must not
        pytest.fail(f"child {run} exited by itself with status {status}")
    return lines


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_committed_files(env, tmp_path):
    vault, _ = env.create()
    vault.lock()
    state: dict[str, int] = {}
    origin: dict[str, str] = {}
    passphrase = PASSPHRASE
    in_flight_seen = {"applied": 0, "absent": 0}
    for run in range(RUNS):
        lines = _run_child(env, run, tmp_path)
        pending = None
        for obj in lines:
            if "b" in obj:
                pending = obj
            elif "c" in obj:
                assert pending is not None
                state = _apply(state, pending)
                origin = _origins(origin, pending)
                if pending["b"] == "pw":
                    passphrase = pending["new"]
                pending = None
        candidates = [passphrase]
        if pending is not None and pending["b"] == "pw":
            candidates.append(pending["new"])
        vault = None
        for pw in candidates:
            try:
                vault = env.open(pw)
                passphrase = pw
                break
            except WrongPassphrase:
                continue
        assert vault is not None, f"run {run}: no passphrase opens the vault"
        try:
            report = vault.check()
            assert report.ok, (run, report.problems)
            history = vault.verify_history()
            assert history.ok, (run, history.problems)
            files = _vault_files(vault)
            if files == state:
                if pending is not None and pending["b"] != "pw":
                    in_flight_seen["absent"] += 1
            else:
                assert pending is not None, f"run {run}: committed state differs"
                after = _apply(state, pending)
                assert files == after, f"run {run}: half-applied {pending['b']}"
                in_flight_seen["applied"] += 1
                state = after
                origin = _origins(origin, pending)
            # Contents: everything this run touched, plus a random sample of the rest
            # (each preview is a committed history entry, so reading all would be slow).
            rng = random.Random(run)
            mine = {p for p in files if p.split("/")[1][1:].startswith(f"{run}-")}
            sample = set(rng.sample(sorted(files), min(5, len(files))))
            for path in sorted(mine | sample):
                data = vault.read_bytes(path)
                assert data == content_for(origin[path], files[path]), (run, path)
            # no stray objects or temp files survive the open
            referenced = report.objects_checked
            on_disk = [p for p in (env.vault_path / "objects").rglob("*") if p.is_file()]
            assert len(on_disk) == referenced, (run, len(on_disk), referenced)
            assert not [p for p in env.vault_path.iterdir() if ".tmp-" in p.name]
        finally:
            vault.lock()
    # The random delays must actually have caught operations in flight.
    assert sum(in_flight_seen.values()) > 0


CHILD_HOLD = r"""
import sys, time
from strongroom.vault import Vault, VaultInUse
try:
    v = Vault.open(sys.argv[1], sys.argv[2], config_dir=sys.argv[3], temp_root=sys.argv[4])
except VaultInUse as exc:
    print("IN-USE", exc, flush=True)
    sys.exit(3)
print("OPEN", flush=True)
sys.stdin.read()
v.lock()
"""


def _hold_args(env) -> list[str]:
    """The command line of a child that opens the vault and holds it until stdin closes."""
    return [
        sys.executable,
        "-c",
        CHILD_HOLD,
        str(env.vault_path),
        PASSPHRASE,
        str(env.config_dir),
        str(env.temp_root),
    ]


def test_second_process_gets_vault_in_use(env):
    vault, _ = env.create()
    args = _hold_args(env)
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, input="")
    assert out.returncode == 3, out.stderr
    assert out.stdout.startswith("IN-USE") and "another" in out.stdout
    vault.lock()
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "OPEN"
        with pytest.raises(VaultInUse):
            env.open()
        # refused before any key derivation: a wrong passphrase is not even tried
        with pytest.raises(VaultInUse):
            env.open("wrong passphrase")
    finally:
        child.communicate("", timeout=60)
    assert child.returncode == 0
    env.open().lock()


def test_killed_holder_releases_the_lock(env):
    vault, _ = env.create()
    vault.lock()
    args = _hold_args(env)
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "OPEN"
    child.kill()
    child.wait()
    env.open().lock()


CHILD_CREATE = r"""
import sys
sys.path.insert(0, sys.argv[4])
from vault_helpers import fast_params
from strongroom.vault import Vault
print("go", flush=True)
v, key = Vault.create(sys.argv[1], "pw", kdf_params=fast_params(), config_dir=sys.argv[2],
                      temp_root=sys.argv[3])
print("done", flush=True)
"""


@pytest.mark.slow
def test_sigkill_during_create_leaves_nothing_half_made(tmp_path):
    """The folder appears at its final name only when complete."""
    outcomes = {"absent": 0, "complete": 0}
    for run in range(8):
        target = tmp_path / f"v{run}.strongroom"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD_CREATE,
                str(target),
                str(tmp_path / "cfg"),
                str(tmp_path / "tmp"),
                str(Path(__file__).parent),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "go"
        time.sleep(random.Random(run).uniform(0.0, 0.15))
        proc.kill()
        proc.wait()
        if target.exists():
            Vault.open(target, "pw", config_dir=tmp_path / "cfg", temp_root=tmp_path / "tmp").lock()
            outcomes["complete"] += 1
        else:
            outcomes["absent"] += 1
    assert sum(outcomes.values()) == 8
    # a later create cleans up the half-built folders of crashed ones
    for run in range(8):
        target = tmp_path / f"v{run}.strongroom"
        if not target.exists():
            Vault.create(
                target,
                "pw",
                kdf_params=fast_params(),
                config_dir=tmp_path / "cfg",
                temp_root=tmp_path / "tmp",
            )[0].lock()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
