#!/usr/bin/env python3
"""Share throughput: sharing a big file costs a copy of its stored bytes, receiving it
costs about one `age -d`.

Run from the repository root with the project's virtualenv:

    .venv/bin/python benchmarks/share_throughput.py                 # 1 GiB, temp dir on disk
    .venv/bin/python benchmarks/share_throughput.py --size-mib 64 --repeat 1   # quick check

In one run, on the same object and the same disk:

- **share**: `Vault.share(file, to=Bob, out_dir=...)` — header + the stored payload bytes
  copied unchanged into a temp file, fsync, commit, rename, fsync of the folder (durable
  before it counts as delivered: FORMAT.md §6.2) — against a durable copy of the same
  object file: `cp` followed by `sync FILE` (an fsync of that file). Plain `cp` (no fsync)
  is shown for reference. Target: share throughput >= 0.8x `cp` + `sync FILE`.
- **receive**: `Vault.receive(share)` in Bob's vault — open the header, stream the payload
  into a new object while decrypting it into a hashing sink, check size and SHA-256, fsync,
  commit — against `age -d -i bob.key share -o out` (Debian age, plaintext to a file) on
  the same share file. Target: receive throughput >= 0.8x `age -d`.

Throughput is stored-payload MB/s (10^6 B/s) for the copies and plaintext MB/s for the
decrypts; the payload is 0.024 % larger than the plaintext. Each figure is the median of
`--repeat` runs, with the min–max spread; the share and its reference alternate run by
run (so a burst of load from elsewhere hits both), and the ratio is taken of the medians.
`sync` runs before each measurement so earlier writeback does not land in it. The vault
operations run in this process (the vaults are already open, so only the operation itself
is timed); `cp` and `age` are child processes, whose start-up cost
(a few ms) counts against them. Every vault uses cheap Argon2id parameters, because this
measures sharing, not the passphrase KDF.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from strongroom.crypto import kdf
from strongroom.vault import Vault

MB = 1_000_000
MIB = 1024 * 1024
TARGET = 0.8
AGE = shutil.which("age") or "/usr/bin/age"


def cheap() -> kdf.Argon2idParams:
    return kdf.Argon2idParams.new(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1)


def make_random_file(path: Path, size: int) -> None:
    chunk = os.urandom(MIB)
    with path.open("wb") as f:
        left = size
        while left > 0:
            f.write(chunk[: min(left, MIB)])
            left -= MIB


def median_of(fn: Callable[[int], float], repeat: int) -> tuple[float, list[float]]:
    """Run fn(i) -> seconds `repeat` times after a `sync`; (median, all)."""
    times = []
    for i in range(repeat):
        os.sync()
        times.append(fn(i))
    return statistics.median(times), times


def alternating(fns: list[Callable[[int], float]], repeat: int) -> list[tuple[float, list[float]]]:
    """Run each of `fns` once per round, `repeat` rounds; (median, all) for each."""
    runs: list[list[float]] = [[] for _ in fns]
    for i in range(repeat):
        for fn, times in zip(fns, runs, strict=True):
            os.sync()
            times.append(fn(i))
    return [(statistics.median(t), t) for t in runs]


def run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", default=None, help="where to work (default: a temp dir in /tmp)")
    args = ap.parse_args()
    size = args.size_mib * MIB
    work = Path(tempfile.mkdtemp(prefix="share-bench-", dir=args.dir))
    try:
        return bench(work, size, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench(work: Path, size: int, repeat: int) -> int:
    cfg = {"config_dir": work / "config", "temp_root": work / "run"}
    src = work / "big.bin"
    make_random_file(src, size)
    alice, _ = Vault.create(work / "A.strongroom", "pw", kdf_params=cheap(), **cfg)
    bob, _ = Vault.create(work / "B.strongroom", "pw", kdf_params=cheap(), **cfg)
    alice.add_contact(bob.my_card().to_text())
    bob.add_contact(alice.my_card().to_text())
    (item,) = alice.add_paths([src])
    src.unlink()
    want = item.sha256.hex()
    object_id = alice._ctx.connection.execute(
        "SELECT object_id FROM file_contents WHERE item_id = ?", (item.id,)
    ).fetchone()[0]
    obj = alice.path / "objects" / object_id[:2] / object_id
    payload = obj.stat().st_size
    out = work / "out"
    out.mkdir()
    key = work / "bob.key"
    key.write_text(bob.export_age_identity())

    # --- share vs cp ------------------------------------------------------------------
    def cp(i: int) -> float:
        dest = out / f"cp-{i}"
        t = run(["cp", str(obj), str(dest)])
        dest.unlink()
        return t

    def cp_sync(i: int) -> float:
        dest = out / f"cps-{i}"
        start = time.perf_counter()
        subprocess.run(["cp", str(obj), str(dest)], check=True)
        subprocess.run(["sync", str(dest)], check=True)  # fsync of that file: durable
        t = time.perf_counter() - start
        dest.unlink()
        return t

    shares: list[Path] = []

    def share(i: int) -> float:
        start = time.perf_counter()
        (rec,) = alice.share(item, to="B", out_dir=out)
        t = time.perf_counter() - start
        shares.append(rec.path)
        return t

    # Bob's card name is the vault folder name ("B"), so `to="B"` names him.
    (t_cp, all_cp), (t_cps, all_cps), (t_share, all_share) = alternating(
        [cp, cp_sync, share], repeat
    )
    share_file = shares[-1]
    for extra in shares[:-1]:
        extra.unlink()

    # --- receive vs age -d -----------------------------------------------------------
    def age_d(i: int) -> float:
        dest = out / f"plain-{i}"
        t = run([AGE, "-d", "-i", str(key), "-o", str(dest), str(share_file)])
        if i == 0:
            digest = hashlib.sha256()
            with dest.open("rb") as f:
                while block := f.read(4 * MIB):
                    digest.update(block)
            assert digest.hexdigest() == want, "age -d gave other bytes"
        dest.unlink()
        return t

    def receive(i: int) -> float:
        # A fresh share each time (same payload, new id): a repeat would be a duplicate.
        (rec,) = alice.share(item, to="B", out_dir=out)
        os.sync()
        start = time.perf_counter()
        got = bob.receive(rec.path)
        t = time.perf_counter() - start
        assert got.size == size and not got.duplicate
        bob.delete(got.path)
        rec.path.unlink()
        return t

    (t_age, all_age), (t_recv, all_recv) = alternating([age_d, receive], repeat)
    alice.lock()
    bob.lock()

    def mbs(n: int, t: float) -> float:
        return n / MB / t

    share_ratio = t_cps / t_share  # against the durable copy: the target
    share_ratio_cp = t_cp / t_share
    recv_ratio = t_age / t_recv
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; host: {platform.node()}; "
        f"nproc {os.cpu_count()}; python {platform.python_version()}; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(f"file: {size / MIB:.0f} MiB plaintext, {payload} B stored payload; work dir {work}")
    print()
    print("| operation | tool | median s | min–max s | median MB/s | all runs s |")
    print("|---|---|---:|---:|---:|---|")

    def row(op: str, tool: str, t: float, n: int, runs: list[float]) -> None:
        spread = f"{min(runs):.2f}–{max(runs):.2f}"
        every = ", ".join(f"{x:.2f}" for x in runs)
        print(f"| {op} | {tool} | {t:.2f} | {spread} | {mbs(n, t):.0f} | {every} |")

    row("copy stored bytes", "`cp`", t_cp, payload, all_cp)
    row("copy stored bytes", "`cp` + `sync FILE`", t_cps, payload, all_cps)
    row("share (header + payload, fsync)", "Strongroom", t_share, payload, all_share)
    row("decrypt share", "`age -d`", t_age, size, all_age)
    row("receive (copy + decrypt-verify, fsync)", "Strongroom", t_recv, size, all_recv)
    print()
    ok_share = share_ratio >= TARGET
    ok_recv = recv_ratio >= TARGET
    pairs = [c / s for c, s in zip(all_cps, all_share, strict=True)]
    print(
        f"share / (cp + sync)   = {share_ratio:.2f} of the medians, per round "
        f"{min(pairs):.2f}–{max(pairs):.2f}  (target >= {TARGET}: "
        f"{'PASS' if ok_share else 'MISS'})"
    )
    print(f"share / cp (no fsync) = {share_ratio_cp:.2f}")
    print(
        f"receive / age -d      = {recv_ratio:.2f}  (target >= {TARGET}: "
        f"{'PASS' if ok_recv else 'MISS'})"
    )
    return 0 if ok_share and ok_recv else 1


if __name__ == "__main__":
    raise SystemExit(main())
