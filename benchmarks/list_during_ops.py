#!/usr/bin/env python3
"""Listing a big folder while a long operation runs (issue 14's locking policy).

A lister thread calls `Vault.list` on a folder of 10,000 entries about every 20 ms while one
long operation (a 1 GiB add, a 1 GiB export, …) runs on another thread of the same `Vault`,
as the GUI does with its worker pool. The worst list call during each operation says how long
the file list could freeze; the idle list time is printed next to it, since a list of 10,000
entries is itself not free.

Run from the repository root with the project's virtualenv:

    .venv/bin/python benchmarks/list_during_ops.py                  # 1 GiB, 3 runs
    .venv/bin/python benchmarks/list_during_ops.py --size-mib 64 --runs 1   # quick

Each operation is one function in `OPERATIONS` taking a `Bench` (the vault and its work
folder) and returning nothing; what must happen before each run without being timed (a new
share to receive) is in `PREPARE`. Share and receive use a second vault, in the first one's
contacts. Every vault uses cheap Argon2id parameters: the benchmark measures the vault, not
the KDF.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
TARGET_WORST_S = 0.050
LIST_EVERY_S = 0.020
PASSPHRASE = "benchmark passphrase"


@dataclass
class Bench:
    """One benchmark vault: `vault`, `work` (a scratch folder), the big source file."""

    vault: object
    work: Path
    big: Path
    state: dict[str, object] = field(default_factory=dict)


# ----- the operations (each runs once per run, while the lister lists) --------------------


def op_add(b: Bench) -> None:
    """Add the 1 GiB file (encrypt, stage outside the lock, commit)."""
    b.vault.add_paths([b.big], "/", as_names=[f"big-{time.monotonic_ns()}.bin"])  # type: ignore[attr-defined]


def op_export(b: Bench) -> None:
    """Export a 1 GiB file to disk (decrypt outside the lock, place under it)."""
    dest = b.work / f"export-{time.monotonic_ns()}.bin"
    b.vault.export(b.state["stored"], dest)  # type: ignore[attr-defined]
    dest.unlink()


def op_share(b: Bench) -> None:
    """Share the 1 GiB file with a contact into a folder (header + the stored payload
    copied unchanged, fsynced, outside the lock; recorded under it)."""
    (share,) = b.vault.share(  # type: ignore[attr-defined]
        [b.state["stored"]], to=[b.state["contact"]], out_dir=b.work / "shares"
    )
    share.path.unlink()


def prepare_receive(b: Bench) -> None:
    """Not timed: the sender makes a new 1 GiB share for the benchmark vault (a share
    already received would be answered as a duplicate at once); the file received by the
    previous run is deleted, to keep the disk use flat."""
    sender = b.state["sender"]
    for old in b.work.joinpath("inbox").iterdir():
        old.unlink()
    for rec in b.vault.shared_with_me():  # type: ignore[attr-defined]
        b.vault.delete(rec.path)  # type: ignore[attr-defined]
    (share,) = sender.share(  # type: ignore[attr-defined]
        ["/big.bin"], to=[b.state["sender_contact"]], out_dir=b.work / "inbox"
    )
    b.state["incoming"] = share.path


def op_receive(b: Bench) -> None:
    """Receive a 1 GiB share (payload copied, decrypted and hashed outside the lock;
    checked again and recorded under it)."""
    b.vault.receive(b.state["incoming"])  # type: ignore[attr-defined]


OPERATIONS: dict[str, Callable[[Bench], None]] = {
    "add": op_add,
    "export": op_export,
    "share": op_share,
    "receive": op_receive,
}
"""Name -> operation."""

PREPARE: dict[str, Callable[[Bench], None]] = {"receive": prepare_receive}
"""Name -> what runs (untimed, with no lister) before each run of that operation."""


# ----- measuring -----------------------------------------------------------------------------


def _cheap_kdf() -> object:
    from strongroom.crypto import kdf

    return kdf.Argon2idParams.new(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1)


def setup(root: Path, size_mib: int, entries: int) -> Bench:
    from strongroom.vault import Vault

    cfg = {"config_dir": root / "config", "temp_root": root / "run"}
    vault, _ = Vault.create(root / "bench.strongroom", PASSPHRASE, kdf_params=_cheap_kdf(), **cfg)
    many = root / "many"
    many.mkdir()
    for i in range(entries):
        (many / f"file-{i:05d}.txt").write_bytes(b"x" * 64)
    vault.add_paths([many], "/")
    shutil.rmtree(many)
    big = root / "big.bin"
    chunk = os.urandom(MIB)
    with big.open("wb") as f:
        for _ in range(size_mib):
            f.write(chunk)
    bench = Bench(vault, root, big)
    (stored,) = vault.add_paths([big], "/", as_names=["stored.bin"])
    bench.state["stored"] = stored
    # Sharing: a second vault, each in the other's contacts; it sends what is received.
    sender, _ = Vault.create(root / "sender.strongroom", PASSPHRASE, kdf_params=_cheap_kdf(), **cfg)
    sender.add_paths([big], "/")
    bench.state["sender"] = sender
    bench.state["contact"] = vault.add_contact(sender.my_card().to_text()).id
    bench.state["sender_contact"] = sender.add_contact(vault.my_card().to_text()).id
    (root / "shares").mkdir()
    (root / "inbox").mkdir()
    return bench


def measure(bench: Bench, op: Callable[[Bench], None]) -> tuple[float, list[float], float]:
    """Run `op` while listing "/many" every ~20 ms; (worst list s, all list times, op s)."""
    times: list[float] = []
    done = threading.Event()

    def lister() -> None:
        while not done.is_set():
            start = time.perf_counter()
            bench.vault.list("/many")  # type: ignore[attr-defined]
            times.append(time.perf_counter() - start)
            done.wait(LIST_EVERY_S)

    thread = threading.Thread(target=lister)
    start = time.perf_counter()
    thread.start()
    try:
        op(bench)
    finally:
        elapsed = time.perf_counter() - start
        done.set()
        thread.join()
    return max(times), times, elapsed


def idle_list(bench: Bench, n: int = 20) -> float:
    """Median time of a list of "/many" with nothing else running."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        bench.vault.list("/many")  # type: ignore[attr-defined]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ops", default=",".join(OPERATIONS), help="comma-separated")
    parser.add_argument(
        "--control-s", type=float, default=10.0, help="seconds of listing with no operation"
    )
    args = parser.parse_args()
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = [o for o in ops if o not in OPERATIONS]
    if unknown:
        parser.error(f"unknown operation(s) {unknown}; known: {sorted(OPERATIONS)}")
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"# {args.size_mib} MiB operations, a folder of {args.entries} entries, {args.runs} runs")
    with tempfile.TemporaryDirectory(prefix="strongroom-listbench-") as tmp:
        bench = setup(Path(tmp), args.size_mib, args.entries)
        idle = idle_list(bench)
        print(f"idle list of {args.entries} entries: median {idle * 1000:.1f} ms")
        # The same lister with no operation running: what the machine alone costs (a busy
        # machine delays any thread now and then; an operation is not to blame for that).
        quiet = [measure(bench, lambda _b: time.sleep(args.control_s))[0] for _ in range(args.runs)]
        print(
            f"{'none':<8} worst list {statistics.median(quiet) * 1000:7.1f} ms (runs "
            f"{min(quiet) * 1000:.1f}–{max(quiet) * 1000:.1f}), {args.control_s:.0f} s with no"
            " operation (the machine's own delays)"
        )
        failed = False
        for name in ops:
            worsts, seconds, medians = [], [], []
            for _ in range(args.runs):
                if name in PREPARE:
                    PREPARE[name](bench)
                worst, times, elapsed = measure(bench, OPERATIONS[name])
                worsts.append(worst)
                seconds.append(elapsed)
                medians.append(statistics.median(times))
            med = statistics.median(worsts)
            verdict = "PASS" if med < TARGET_WORST_S else "MISS"
            failed |= verdict == "MISS"
            print(
                f"{name:<8} worst list {med * 1000:7.1f} ms (runs {min(worsts) * 1000:.1f}–"
                f"{max(worsts) * 1000:.1f}), median list {statistics.median(medians) * 1000:.1f}"
                f" ms, operation {statistics.median(seconds):.2f} s  "
                f"[target < {TARGET_WORST_S * 1000:.0f} ms: {verdict}]"
            )
        bench.vault.lock()  # type: ignore[attr-defined]
        bench.state["sender"].lock()  # type: ignore[attr-defined]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
