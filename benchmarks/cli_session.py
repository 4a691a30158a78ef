#!/usr/bin/env python3
"""The CLI's unlock session: `strongroom ls` of a 10,000-item folder with and without one.

Run from the repository root with the project's virtualenv:

    .venv/bin/python benchmarks/cli_session.py                 # default Argon2id (512 MiB)
    .venv/bin/python benchmarks/cli_session.py --items 2000 --runs 5   # quicker

It builds a vault with the default Argon2id cost (what a person gets from `init`) holding
one folder of `--items` small files (in a child process), byte-compiles the sources (as
an installed app would have them), then runs the real CLI (`python -m strongroom`) as a
child process and measures each run's wall time and the child's peak RSS (`wait4`'s
ru_maxrss):

* reference: `ls FOLDER` with the passphrase (every command pays the key derivation);
* `unlock` once, then `ls FOLDER` with `STRONGROOM_SESSION` set.

The session's runtime folder is a fresh 0700 folder on a tmpfs (/dev/shm, or
$XDG_RUNTIME_DIR's file system when that is one). Targets (issue 11): with a session,
`ls` < 0.3 s wall and < 100 MB RSS. Prints median and min–max for each and a PASS/MISS.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "benchmark session passphrase 7c1e"
TARGET_WALL_S = 0.3
TARGET_RSS_MB = 100


def _popen_wait4(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, str, str]:
    """One CLI run in a child process, reaped with wait4 so that the peak RSS reported is
    the child's own: (wall seconds, peak RSS in MB, CPU seconds, stdout, stderr). CPU time
    (user + system) is what the wall time would be on an idle machine, near enough: the
    CLI runs on one thread."""
    cmd = [sys.executable, "-m", "strongroom", *argv]
    out_f = tempfile.TemporaryFile()
    err_f = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    pid = os.posix_spawn(
        sys.executable,
        cmd,
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_f.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, err_f.fileno(), 2),
        ],
    )
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    out_f.seek(0)
    err_f.seek(0)
    out, err = out_f.read().decode(), err_f.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {err}")
    return wall, usage.ru_maxrss * 1024 / 1e6, usage.ru_utime + usage.ru_stime, out, err


def summary(values: list[float], unit: str, digits: int) -> str:
    med = statistics.median(values)
    lo, hi = min(values), max(values)
    return f"median {med:.{digits}f} {unit} (min {lo:.{digits}f} – max {hi:.{digits}f})"


def tmpfs_runtime_dir() -> Path:
    """A fresh private folder on a RAM file system for XDG_RUNTIME_DIR."""
    for base in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if base and Path(base).is_dir() and os.access(base, os.W_OK):
            path = Path(tempfile.mkdtemp(prefix="sr-bench-run-", dir=base))
            path.chmod(0o700)
            return path
    raise SystemExit("no tmpfs for the session folder (XDG_RUNTIME_DIR or /dev/shm)")


def build_vault(path: Path, items: int, kdf_memory_mib: int | None) -> None:
    sys.path.insert(0, str(ROOT / "app"))
    from strongroom.crypto import kdf
    from strongroom.vault import Vault

    params = None
    if kdf_memory_mib is not None:
        params = kdf.Argon2idParams.new(
            memory_kib=kdf_memory_mib * 1024,
            iterations=kdf.DEFAULT_ITERATIONS,
            parallelism=min(kdf.DEFAULT_PARALLELISM, kdf_memory_mib * 1024 // 8),
        )
    with tempfile.TemporaryDirectory(prefix="sr-bench-src-") as src:
        folder = Path(src) / "big"
        folder.mkdir()
        for i in range(items):
            (folder / f"file-{i:05d}.txt").write_bytes(b"x" * 100)
        vault, _recovery = Vault.create(path, PASSPHRASE, kdf_params=params)
        try:
            vault.add_paths([folder])
        finally:
            vault.lock()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--items", type=int, default=10_000, help="files in the folder (10000)")
    p.add_argument("--runs", type=int, default=10, help="session runs (10)")
    p.add_argument("--reference-runs", type=int, default=3, help="no-session runs (3)")
    p.add_argument(
        "--kdf-memory", type=int, metavar="MIB", help="Argon2id memory (default: the default)"
    )
    p.add_argument("--build", metavar="PATH", help=argparse.SUPPRESS)  # child mode
    args = p.parse_args()
    if args.build:
        # In its own process, so the parent stays small: a child started by posix_spawn
        # (vfork) reports max(parent's RSS at spawn, its own) as ru_maxrss.
        build_vault(Path(args.build), args.items, args.kdf_memory)
        return 0

    work = Path(tempfile.mkdtemp(prefix="sr-bench-session-"))
    runtime = tmpfs_runtime_dir()
    try:
        vault = work / "bench.strongroom"
        t0 = time.perf_counter()
        build = [sys.executable, __file__, "--build", str(vault), "--items", str(args.items)]
        if args.kdf_memory is not None:
            build += ["--kdf-memory", str(args.kdf_memory)]
        subprocess.run(build, check=True)
        # An installed app has bytecode caches; a checkout run with PYTHONDONTWRITEBYTECODE
        # would compile every module on every run and measure the compiler instead.
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(ROOT / "app" / "strongroom")],
            check=True,
        )
        print(f"built a vault with {args.items} files in /big in {time.perf_counter() - t0:.1f} s")
        pw = work / "pw.txt"
        pw.write_text(PASSPHRASE + "\n")
        pw.chmod(0o600)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("STRONGROOM_") and k != "XDG_RUNTIME_DIR"
        }
        env.update(
            PYTHONPATH=str(ROOT / "app"),
            STRONGROOM_VAULT=str(vault),
            XDG_RUNTIME_DIR=str(runtime),
            XDG_CONFIG_HOME=str(work / "config"),
        )
        ls = ["ls", "/big"]

        ref_wall, ref_rss, ref_cpu = [], [], []
        for _ in range(args.reference_runs):
            wall, rss, cpu, out, _err = _popen_wait4(["--passphrase-file", str(pw), *ls], env)
            assert out.count("\n") == args.items, "ls did not list every item"
            ref_wall.append(wall)
            ref_rss.append(rss)
            ref_cpu.append(cpu)

        wall, rss, _cpu, out, _err = _popen_wait4(["--passphrase-file", str(pw), "unlock"], env)
        token = out.strip().split("=", 1)[1]
        unlock_wall, unlock_rss = wall, rss
        env_session = {**env, "STRONGROOM_SESSION": token}

        s_wall, s_rss, s_cpu = [], [], []
        for _ in range(args.runs):
            wall, rss, cpu, out, err = _popen_wait4(ls, env_session)
            assert out.count("\n") == args.items, "ls did not list every item"
            assert "expired" not in err
            s_wall.append(wall)
            s_rss.append(rss)
            s_cpu.append(cpu)
        _popen_wait4(["lock"], env)

        load = os.getloadavg()
        print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {load[0]:.2f}")
        print(
            f"vault: {args.items} files in one folder; KDF "
            f"{'default' if args.kdf_memory is None else f'{args.kdf_memory} MiB'}"
        )
        print(
            f"ls, no session ({args.reference_runs} runs): "
            f"wall {summary(ref_wall, 's', 3)}; CPU {summary(ref_cpu, 's', 3)}; "
            f"RSS {summary(ref_rss, 'MB', 1)}"
        )
        print(f"unlock (once): wall {unlock_wall:.3f} s; RSS {unlock_rss:.1f} MB")
        print(
            f"ls, session ({args.runs} runs): "
            f"wall {summary(s_wall, 's', 3)}; CPU {summary(s_cpu, 's', 3)}; "
            f"RSS {summary(s_rss, 'MB', 1)}"
        )
        ok_wall = statistics.median(s_wall) < TARGET_WALL_S
        ok_rss = max(s_rss) < TARGET_RSS_MB
        print(f"target wall < {TARGET_WALL_S} s (median): {'PASS' if ok_wall else 'MISS'}")
        print(f"target RSS < {TARGET_RSS_MB} MB (max): {'PASS' if ok_rss else 'MISS'}")
        ok_cpu = statistics.median(s_cpu) < TARGET_WALL_S
        print(
            f"(CPU time < {TARGET_WALL_S} s (median): {'yes' if ok_cpu else 'no'}; wall is CPU "
            "plus waiting for a busy machine's cores)"
        )
        return 0 if ok_wall and ok_rss else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
