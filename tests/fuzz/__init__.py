"""Coverage-guided fuzzing harnesses (atheris) for every parser that reads untrusted bytes.

`harnesses.py` defines them; `run.py NAME` fuzzes one; `make fuzz` runs each for a set
time; `tests/test_fuzz_smoke.py` gives each a short run in `make test`.
"""
