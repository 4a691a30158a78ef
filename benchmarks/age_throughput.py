#!/usr/bin/env python3
"""age throughput and memory: Strongroom's age implementation against the `age` CLI.

Creates a random file (default 1 GiB) in a temporary directory, then encrypts and decrypts
it file-to-file with Strongroom (strongroom.crypto.age, X25519 recipient) and with the Go
`age` CLI, in the same run. Every operation runs in its own child process, and its peak
memory is that child's maximum RSS, taken from GNU time (`/usr/bin/time -f %M`; see
run_child for why not ru_maxrss of our own children). A child that only imports
strongroom.crypto.age gives the interpreter's baseline, so the script can show Strongroom's
peak *above baseline* (the memory the streaming code itself needs).

Prints MB/s (10^6 bytes per second of plaintext) each way for both tools, the ratio
strongroom/age, and peak RSS. Targets: ratio >= 1.0 both ways, peak < 64 MiB above baseline.

    .venv/bin/python benchmarks/age_throughput.py [--size-mib 1024] [--dir /tmp] [--repeat 3]

Throughput is measured on the wall clock of the whole child process (interpreter start-up
and imports included, which only disadvantages Strongroom); the time of the encrypt/decrypt
call alone is reported too. Output files are fsynced by neither tool; the page cache is
flushed (os.sync) before every timed run so earlier runs' writeback does not leak into it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
TARGET_RATIO = 1.0
TARGET_ABOVE_BASELINE_MIB = 64

CHILD = r"""
import json, sys, time
from strongroom.crypto import age
mode, src, dst, key = sys.argv[1:5]
t0 = time.perf_counter()
with open(src, "rb") as fin, open(dst, "wb") as fout:
    if mode == "encrypt":
        age.encrypt(fin, fout, [age.parse_recipient(key)])
    else:
        age.decrypt(fin, fout, age.parse_identities_file(open(key).read()))
print(json.dumps({"op_seconds": time.perf_counter() - t0}))
"""

BASELINE = "import strongroom.crypto.age"


@dataclass
class Run:
    wall: float
    maxrss_kib: int
    op_seconds: float | None = None
    cpu_seconds: float | None = None  # user + system time of the child


TIME_BIN = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)


def fresh(path: Path) -> str:
    """``path`` as an output name, with any earlier run's output removed first.

    Overwriting a 1 GiB file makes the writer free its cached pages inside the timed run,
    which measured anywhere from 0.1 to 0.5 s here: noise that belongs to neither tool.
    """
    path.unlink(missing_ok=True)
    return str(path)


def run_child(argv: list[str]) -> Run:
    """Run argv as a child; wall time and that child's own peak RSS.

    Linux carries ru_maxrss across fork+exec (the exec'd child starts with its parent's
    high-water mark), so measuring children of this Python process directly would report
    at least this process's RSS for every tool. GNU time is a small C program: children it
    forks inherit only its own ~2 MiB. Without it, fall back to os.wait4 (an upper bound).
    """
    os.sync()
    rss_file = None
    if TIME_BIN:
        fd, rss_file = tempfile.mkstemp(prefix="age-bench-rss-")
        os.close(fd)
        argv = [TIME_BIN, "-f", "%M %U %S", "-o", rss_file, *argv]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed ({proc.returncode}): {err.decode(errors='replace')}")
    cpu = None
    if rss_file:
        # the last line (earlier ones may be GNU time's notes); "maxrss_kib user sys"
        fields = Path(rss_file).read_text().split("\n")[-2].split()
        maxrss, cpu = int(fields[0]), float(fields[1]) + float(fields[2])
        os.unlink(rss_file)
    else:  # pragma: no cover
        maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    op = None
    if out.strip().startswith(b"{"):
        op = json.loads(out)["op_seconds"]
    return Run(wall, maxrss, op, cpu)


def best(runs: list[Run]) -> Run:
    fastest = min(runs, key=lambda r: r.wall)
    cpus = [r.cpu_seconds for r in runs if r.cpu_seconds is not None]
    return Run(
        fastest.wall,
        max(r.maxrss_kib for r in runs),
        min(r.op_seconds for r in runs) if fastest.op_seconds is not None else None,
        min(cpus) if cpus else None,
    )


def make_input(path: Path, size: int) -> str:
    h = hashlib.sha256()
    block = 4 * MIB
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(block, left))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 * MIB):
            h.update(chunk)
    return h.hexdigest()


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    age_version = subprocess.run(["age", "--version"], capture_output=True, text=True).stdout
    try:
        import cryptography

        crypto_version = cryptography.__version__
    except ImportError:  # pragma: no cover
        crypto_version = "?"
    return {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "cryptography": crypto_version,
        "age": age_version.strip(),
        "kernel": platform.release(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024, help="plaintext size (default 1024)")
    ap.add_argument("--dir", default=None, help="where to create the temporary files")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; best is kept")
    ap.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = ap.parse_args()

    age_bin = shutil.which("age")
    if not age_bin:
        raise SystemExit("the age CLI is not installed")
    size = args.size_mib * MIB
    py = sys.executable
    info = machine_info()
    work = Path(tempfile.mkdtemp(prefix="age-bench-", dir=args.dir))
    try:
        plain = work / "plain.bin"
        print(f"creating {args.size_mib} MiB of random data in {work} ...", flush=True)
        digest = make_input(plain, size)

        from strongroom.crypto import age  # the parent only needs a key pair

        ident = age.X25519Identity.generate()
        keyfile = work / "key.txt"
        keyfile.write_text(f"{ident}\n")
        keyfile.chmod(0o600)
        rcpt = str(ident.recipient)

        baseline = best([run_child([py, "-c", BASELINE]) for _ in range(3)])

        results: dict[tuple[str, str], Run] = {}
        plan = {
            ("encrypt", "strongroom"): lambda o: [py, "-c", CHILD, "encrypt", str(plain), o, rcpt],
            ("encrypt", "age"): lambda o: [age_bin, "-e", "-r", rcpt, "-o", o, str(plain)],
        }
        enc_out = {"strongroom": work / "sr.age", "age": work / "cli.age"}
        for _ in range(args.repeat):
            for (op, tool), argv in plan.items():
                results.setdefault((op, tool), []).append(run_child(argv(fresh(enc_out[tool]))))
        dec_out = {"strongroom": work / "sr.out", "age": work / "cli.out"}
        dec_plan = {
            ("decrypt", "strongroom"): lambda: [
                py, "-c", CHILD, "decrypt", str(enc_out["strongroom"]),
                fresh(dec_out["strongroom"]), str(keyfile),
            ],
            ("decrypt", "age"): lambda: [
                age_bin, "-d", "-i", str(keyfile), "-o", fresh(dec_out["age"]),
                str(enc_out["age"]),
            ],
        }  # fmt: skip
        for _ in range(args.repeat):
            for key, argv in dec_plan.items():
                results.setdefault(key, []).append(run_child(argv()))
        for tool, path in dec_out.items():
            if sha256_file(path) != digest:
                raise SystemExit(f"{tool}: decrypted output differs from the input!")
        final = {k: best(v) for k, v in results.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    mb = size / 1e6
    base_mib = baseline.maxrss_kib / 1024
    print()
    print(f"date {info['date']}; {info['nproc']} CPUs: {info['cpu']}")
    print(
        f"python {info['python']}, cryptography {info['cryptography']}, age {info['age']}; "
        f"size {args.size_mib} MiB; best of {args.repeat}"
    )
    print(f"baseline RSS (python -c '{BASELINE}'): {base_mib:.1f} MiB")
    print()
    header = f"{'op':8} {'tool':11} {'wall s':>7} {'MB/s':>6} {'call MB/s':>10} "
    header += f"{'CPU s':>6} {'MB/CPU-s':>9} {'peak RSS MiB':>13} {'above base':>11}"
    print(header)
    rows = []
    for op in ("encrypt", "decrypt"):
        for tool in ("strongroom", "age"):
            r = final[(op, tool)]
            rss = r.maxrss_kib / 1024
            call = f"{mb / r.op_seconds:10.0f}" if r.op_seconds else f"{'-':>10}"
            cpu = f"{r.cpu_seconds:6.2f} {mb / r.cpu_seconds:9.0f}" if r.cpu_seconds else " " * 16
            above = f"{rss - base_mib:11.1f}" if tool == "strongroom" else f"{'-':>11}"
            print(
                f"{op:8} {tool:11} {r.wall:7.2f} {mb / r.wall:6.0f} {call} {cpu} "
                f"{rss:13.1f} {above}"
            )
            rows.append(
                {
                    "op": op,
                    "tool": tool,
                    "wall_s": r.wall,
                    "mb_s": mb / r.wall,
                    "call_mb_s": mb / r.op_seconds if r.op_seconds else None,
                    "cpu_s": r.cpu_seconds,
                    "peak_rss_mib": rss,
                }
            )
    print()
    ok = True
    for op in ("encrypt", "decrypt"):
        sr, cli = final[(op, "strongroom")], final[(op, "age")]
        ratio = cli.wall / sr.wall
        verdict = "OK" if ratio >= TARGET_RATIO else "BELOW TARGET"
        ok &= ratio >= TARGET_RATIO
        cpu_ratio = ""
        if sr.cpu_seconds and cli.cpu_seconds:
            cpu_ratio = f"; per CPU-second {cli.cpu_seconds / sr.cpu_seconds:.2f}"
        print(
            f"{op}: strongroom/age throughput ratio {ratio:.2f} wall-clock"
            f" (>= {TARGET_RATIO}) {verdict}{cpu_ratio}"
        )
    for op in ("encrypt", "decrypt"):
        above = final[(op, "strongroom")].maxrss_kib / 1024 - base_mib
        verdict = "OK" if above < TARGET_ABOVE_BASELINE_MIB else "ABOVE TARGET"
        ok &= above < TARGET_ABOVE_BASELINE_MIB
        print(
            f"{op}: strongroom peak {above:.1f} MiB above baseline "
            f"(< {TARGET_ABOVE_BASELINE_MIB}) {verdict}"
        )
    if args.json:
        print(json.dumps({"machine": info, "baseline_rss_mib": base_mib, "rows": rows}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
