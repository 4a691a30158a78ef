"""Fuzz one harness with atheris (libFuzzer): ``python tests/fuzz/run.py NAME [CORPUS_DIR ...]
[libFuzzer flags]``, e.g. ``-max_total_time=60 -rss_limit_mb=2048 -timeout=10``.

``python tests/fuzz/run.py --all SECONDS`` (what ``make fuzz`` runs) fuzzes every harness
in turn for SECONDS with a corpus kept in ``.fuzz/NAME/`` (seeded from
``tests/fixtures/fuzz/NAME/``, grown across runs), prints the executions of each and stops
at the first finding, whose input is left in ``.fuzz/NAME/``.

Flags that bound each input are always set (memory, time, length) unless given. A finding
is written by libFuzzer as ``crash-*`` / ``timeout-*`` / ``oom-*`` in the working folder and
the exit status is non-zero. ``--replay FILE...`` runs the harness on files without atheris.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_FLAGS = {
    "-rss_limit_mb": "2048",  # memory per process: a parser that balloons is a finding
    "-timeout": "10",  # seconds per input: a parser that spins is a finding
    "-max_len": str(256 * 1024),
}


def _with_defaults(args: list[str]) -> list[str]:
    given = {a.split("=", 1)[0] for a in args if a.startswith("-")}
    return args + [f"{k}={v}" for k, v in DEFAULT_FLAGS.items() if k not in given]


def run_all(seconds: int) -> int:
    import re
    import shutil
    import subprocess

    from fuzz.harnesses import HARNESSES

    root = Path(__file__).resolve().parents[2]
    total = 0
    for name in sorted(HARNESSES):
        work = root / ".fuzz" / name
        corpus = work / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        for seed in (root / "tests" / "fixtures" / "fuzz" / name).iterdir():
            if not (corpus / seed.name).exists():
                shutil.copyfile(seed, corpus / seed.name)
        proc = subprocess.run(
            [sys.executable, __file__, name, "corpus", f"-max_total_time={seconds}"],
            cwd=work,
            capture_output=True,
            text=True,
        )
        done = re.search(r"Done (\d+) runs in (\d+) second", proc.stderr + proc.stdout)
        if proc.returncode != 0 or done is None:
            print(proc.stderr[-4000:], file=sys.stderr)
            print(f"{name}: FINDING (exit {proc.returncode}); input saved in {work}")
            return 1
        total += int(done.group(1))
        print(f"{name:28} {int(done.group(1)):>10} executions in {done.group(2)} s", flush=True)
    print(f"{'all harnesses':28} {total:>10} executions, no finding")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--all":
        return run_all(int(argv[2]))
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    name = argv[1]
    if len(argv) > 2 and argv[2] == "--replay":
        from fuzz.harnesses import check_one

        for path in argv[3:]:
            check_one(name, Path(path).read_bytes())
        print(f"replayed {len(argv) - 3} inputs")
        return 0

    import atheris

    with atheris.instrument_imports(include=["strongroom"]):
        from fuzz.harnesses import check_one, get

    get(name)  # an unknown name fails here, before libFuzzer starts

    def test_one_input(data: bytes) -> None:
        check_one(name, data)

    atheris.Setup([argv[0], *_with_defaults(argv[2:])], test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
