#!/usr/bin/env python3
"""Backup throughput (issue 15): `Vault.backup` of a ~1 GiB vault against `cp -r` of the
vault folder, measured in the same run, several times, interleaved.

Run from the repository root with the project's virtualenv:

    .venv/bin/python benchmarks/backup_throughput.py             # ~1 GiB vault, 5 rounds
    .venv/bin/python benchmarks/backup_throughput.py --big-mib 64 --small 64 --rounds 3

The vault holds `--big` files of `--big-mib` MiB each and `--small` files of 256 KiB (each
one an object: above the inline limit). Each round, in turn: `cp -r` of the vault folder to
a new folder (as `cp` does it: no fsync, so its data may still be in the page cache when it
returns), the same followed by `sync` (the same durability as the backup, which is durable
when it returns), and a first backup of the open vault to a new folder. Before each
measurement `sync` runs untimed, so no run pays for the previous one's writeback; the
sources are in the page cache for every contender. Then an incremental backup with nothing
new, and one after adding one more file. The verdict: backup throughput >= 0.8x `cp -r`'s
(median of the rounds), as issue 15 asks.
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
from typing import Any

MIB = 1024 * 1024
TARGET_RATIO = 0.8
PASSPHRASE = "benchmark passphrase"


def _cheap_kdf() -> Any:
    from strongroom.crypto import kdf

    return kdf.Argon2idParams.new(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1)


def _random_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 8 * MIB)
            f.write(os.urandom(n))
            left -= n


def _tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _sync() -> None:
    subprocess.run(["sync"], check=True)


def _timed(fn: Any) -> float:
    _sync()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--big", type=int, default=3, help="big files (default 3)")
    ap.add_argument("--big-mib", type=int, default=256, help="MiB per big file (default 256)")
    ap.add_argument("--small", type=int, default=1024, help="256 KiB files (default 1024)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp)")
    args = ap.parse_args(argv)

    from strongroom.vault import Vault

    work = Path(tempfile.mkdtemp(prefix="strongroom-backup-bench-", dir=args.work))
    try:
        src = work / "src"
        (src / "small").mkdir(parents=True)
        for i in range(args.big):
            _random_file(src / f"big{i}.bin", args.big_mib * MIB)
        for i in range(args.small):
            _random_file(src / "small" / f"s{i:05}.bin", 256 * 1024)
        cfg = {"config_dir": work / "config", "temp_root": work / "run"}
        vault_path = work / "bench.strongroom"
        vault, _ = Vault.create(vault_path, PASSPHRASE, kdf_params=_cheap_kdf(), **cfg)
        vault.add_paths(sorted(src.iterdir()))
        shutil.rmtree(src)
        size = _tree_size(vault_path)
        objects = sum(1 for _ in (vault_path / "objects").glob("??/*"))
        print(f"vault: {size / MIB:.0f} MiB in {objects} objects; {platform.platform()}")

        times: dict[str, list[float]] = {"cp -r": [], "cp -r + sync": [], "backup": []}
        for r in range(args.rounds):
            for name in times:
                dest = work / f"dest-{name.replace(' ', '').replace('+', '')}-{r}"
                if name == "backup":
                    t = _timed(lambda d=dest: vault.backup(d))
                elif name == "cp -r":
                    t = _timed(
                        lambda d=dest: subprocess.run(["cp", "-r", vault_path, d], check=True)
                    )
                else:
                    t = _timed(
                        lambda d=dest: (
                            subprocess.run(["cp", "-r", vault_path, d], check=True),
                            _sync(),
                        )
                    )
                times[name].append(t)
                shutil.rmtree(dest)
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))

        dest = work / "incremental"
        vault.backup(dest)
        nothing_new = _timed(lambda: vault.backup(dest))
        extra = work / "extra.bin"
        _random_file(extra, 64 * MIB)
        vault.add_paths([extra])
        one_new = _timed(lambda: vault.backup(dest))
        vault.lock()

        print()
        print(f"{'':<14}{'median':>9}{'min':>9}{'max':>9}   MB/s (median)")
        for name, values in times.items():
            s = _stats(values)
            print(
                f"{name:<14}{s['median']:>8.2f}s{s['min']:>8.2f}s{s['max']:>8.2f}s"
                f"   {size / 1e6 / s['median']:.0f}"
            )
        cp, bk = _stats(times["cp -r"]), _stats(times["backup"])
        ratio = cp["median"] / bk["median"]
        ratio_sync = _stats(times["cp -r + sync"])["median"] / bk["median"]
        verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"
        print(
            f"backup throughput = {ratio:.2f}x cp -r ({verdict}, target >= {TARGET_RATIO}x); "
            f"{ratio_sync:.2f}x cp -r + sync"
        )
        print(
            f"incremental, nothing new: {nothing_new:.2f} s; one new 64 MiB file: {one_new:.2f} s"
        )
        return 0 if ratio >= TARGET_RATIO else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
