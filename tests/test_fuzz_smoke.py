"""A short coverage-guided run of every fuzzing harness (tests/fuzz/), and proofs that the
harnesses reach the code behind signatures and that a finding fails the run.

`make fuzz` runs the same harnesses for longer (FUZZ_SECONDS each).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz.harnesses import HARNESSES, check_one, get

HERE = Path(__file__).resolve().parent
RUN = HERE / "fuzz" / "run.py"
SEEDS = HERE / "fixtures" / "fuzz"
SMOKE_SECONDS = 20  # each harness; they run side by side, so ~20-40 s of wall time in all

# Seeds that are well-formed for their harness: they must parse with no error at all, so
# the harness is known to reach the parser's success path (and, for the re-signing ones,
# past the signature or checksum).
VALID = {
    "age_header": ["x25519", "scrypt"],
    "age_payload": ["small", "empty"],
    "age_file": ["x25519", "two-chunks", "armored", "armored-no-final-newline", "scrypt"],
    "share": ["valid"],
    "manifest": ["valid"],
    "manifest_resigned": ["valid-fields"],
    "message": ["revocation", "receipt", "group-key"],
    "message_resigned": ["revocation", "receipt", "group-key"],
    "card": ["valid"],
    "card_resigned": ["valid-fields"],
    "vault_header": ["valid"],
    "vault_header_rechecksummed": ["valid-lines"],
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    app = str(HERE.parent / "app")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (app, env.get("PYTHONPATH")) if p)
    return env


def test_every_harness_has_seeds_and_valid_examples():
    assert set(VALID) == set(HARNESSES)
    for name in HARNESSES:
        assert sorted(p.name for p in (SEEDS / name).iterdir()), name


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_valid_seeds_parse_without_error(name):
    for seed in VALID[name]:
        get(name).run((SEEDS / name / seed).read_bytes())  # no exception at all


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_seed_corpus_replays_with_documented_errors_only(name):
    for path in sorted((SEEDS / name).iterdir()):
        check_one(name, path.read_bytes())


def test_a_finding_fails_the_run(tmp_path):
    """The runner is able to fail: a planted crash in the seed corpus is reported."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS / "planted_bug", corpus)
    proc = subprocess.run(
        [sys.executable, str(RUN), "planted_bug", str(corpus), "-max_total_time=20"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "planted bug" in proc.stdout + proc.stderr
    assert list(tmp_path.glob("crash-*"))


@pytest.mark.slow
def test_smoke_run_of_every_harness(tmp_path):
    """Each harness fuzzes for SMOKE_SECONDS from its seeds, all at once; none may find a
    crash, a hang (10 s per input) or a memory blow-up (2 GiB)."""
    procs = {}
    for name in sorted(HARNESSES):
        work = tmp_path / name
        shutil.copytree(SEEDS / name, work / "corpus")
        procs[name] = subprocess.Popen(
            [sys.executable, str(RUN), name, "corpus", f"-max_total_time={SMOKE_SECONDS}"],
            cwd=work,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    failures, runs = [], {}
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=600)
        done = re.search(r"Done (\d+) runs in", out)
        if proc.returncode != 0 or done is None:
            failures.append(f"{name}: exit {proc.returncode}\n{out[-3000:]}")
        else:
            runs[name] = int(done.group(1))
    assert not failures, "\n\n".join(failures)
    print("fuzz smoke executions:", runs)
    assert all(n > 0 for n in runs.values())
