#!/usr/bin/env python3
"""Edit in place (issue 15): what watching copies opened for editing costs, and how soon a
change is stored.

- `poll`: one pass of the edit watcher over N idle copies (an `lstat` each), the work done
  every `interval` (0.5 s) while files are open for editing;
- `latency`: from a change written to a copy to its new version committed, with the real
  watcher thread and the default quiet interval (1 s) and poll interval (0.5 s);
- `store`: `save_copy` of a changed copy of S MiB (one read through `CheckedCopy`, a
  stream) against `store_version` of the same bytes from a file (what the checks add).

Run from the repository root with the project's virtualenv:

    .venv/bin/python benchmarks/edit_watch.py            # 5 runs, 64 MiB
    .venv/bin/python benchmarks/edit_watch.py --runs 3 --size-mib 16

Every vault uses cheap Argon2id parameters: the benchmark measures edit in place, not the KDF.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

MIB = 1024 * 1024
PASSPHRASE = "benchmark passphrase"


def _summary(name: str, values: list[float], unit: str = "ms", scale: float = 1000) -> None:
    v = [x * scale for x in values]
    print(
        f"{name:<44} median {statistics.median(v):9.3f} {unit}"
        f"   min {min(v):9.3f}   max {max(v):9.3f}   (n={len(v)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=64)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "app"))
    from strongroom.crypto import kdf
    from strongroom.vault import EDITING_CHANGED, Vault

    params = kdf.Argon2idParams.new(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1)
    with tempfile.TemporaryDirectory(prefix="edit-bench-") as tmp:
        root = Path(tmp)
        vault, _ = Vault.create(
            root / "b.strongroom",
            PASSPHRASE,
            kdf_params=params,
            config_dir=root / "cfg",
            temp_root=Path(os.environ.get("XDG_RUNTIME_DIR", tmp)) / f"edit-bench-{os.getpid()}",
        )
        print(f"temp folder in memory: {vault.temp_in_memory}; load average {os.getloadavg()}")
        watcher = vault._editing.watcher  # the benchmark drives one pass itself
        for n in (1, 10, 100):
            while len(vault.editing_copies()) < n:
                rec = vault.add_bytes("/", f"f{len(vault.editing_copies())}.txt", b"text\n")
                vault.open_for_editing(rec)
            times = []
            for _ in range(max(args.runs, 20)):
                t = time.perf_counter()
                watcher.poll()
                times.append(time.perf_counter() - t)
            _summary(f"poll, {n} idle copies", times)

        done = threading.Event()
        vault.subscribe(
            lambda e: e.name == EDITING_CHANGED and e.payload.get("what") == "saved" and done.set()
        )
        rec = vault.add_bytes("/", "latency.txt", b"v0\n")
        copy = vault.open_for_editing(rec)
        lat = []
        for i in range(args.runs):
            done.clear()
            t = time.perf_counter()
            copy.path.write_bytes(f"version {i + 1}\n".encode())
            if not done.wait(60):
                raise SystemExit("the change was not stored within 60 s")
            lat.append(time.perf_counter() - t)
        _summary("latency, write to stored (quiet 1 s, poll 0.5 s)", lat, "s", 1)

        size = args.size_mib * MIB
        src = root / "big.bin"
        big = vault.add_bytes("/", "big.bin", b"\0")
        plain, save = [], []
        for _ in range(args.runs):
            src.write_bytes(os.urandom(size))
            t = time.perf_counter()
            vault.store_version(big, src)
            plain.append(time.perf_counter() - t)
            c = vault.open_for_editing(big, watch=False)
            c.path.write_bytes(os.urandom(size))
            t = time.perf_counter()
            vault.save_copy(c)
            save.append(time.perf_counter() - t)
            vault.finish_editing(c, save=False)
        _summary(f"store_version from a file, {args.size_mib} MiB", plain, "s", 1)
        _summary(f"save_copy (checked stream), {args.size_mib} MiB", save, "s", 1)
        vault.lock()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
