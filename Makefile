# Strongroom: the two commands a newcomer needs are `make run` and `make test`.
# Both set everything up first (system packages, a virtual environment, the package).

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: run test test-fresh lint format bench setup system-deps clean package test-package fuzz torture

run: system-deps $(STAMP)
	$(VENV)/bin/strongroom

# The suite runs in PYTEST_WORKERS processes (pytest-xdist; 0: in this one). The heavy
# families run at a smaller, fixed size; `make torture` runs them in full (README.md).
PYTEST_WORKERS ?= 2

test: system-deps $(STAMP)
	$(PY) -m ruff check app tests benchmarks tools
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

setup: system-deps $(STAMP)

# Every heavy family in full (README.md has the table): power cuts at every crash point, and
# an I/O error at every request, of every vault operation (tests/test_power_loss.py); the
# adversarial state machines with 40x the examples; every byte of the header damaged; 100
# exchange clean-up cycles; 100 SIGKILLs at random moments. `make test` runs each at a
# smaller size. About an hour.
TORTURE_TESTS = tests/test_power_loss.py tests/test_adversarial_statemachine.py \
	tests/test_vault_header.py tests/test_exchange_cleanup.py tests/test_vault_crash.py
torture: system-deps $(STAMP)
	STRONGROOM_TORTURE=1 $(PY) -m pytest $(TORTURE_TESTS) -p no:cacheprovider \
	  -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The tests use the Debian `age` CLI as an independent implementation; Qt needs GLib and
# the X/xcb client libraries (the table in the script, checked against `ldd` by
# tests/test_system_deps.py). Installed only when missing.
system-deps:
	@bash packaging/install-system-deps.sh

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "make: '$(PYTHON) -m venv' failed: install Python's venv module" \
	       "(Debian/Ubuntu: apt-get install python3-venv) and run make again." >&2; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The README's two commands on a fresh machine: a minimal chroot of this machine's release
# with only python3, python3-venv, make and git; `make test`, then `make run` under xvfb-run
# until its window maps. Root only; see packaging/test-fresh.sh. CI runs it after `make test`.
test-fresh:
	bash packaging/test-fresh.sh

lint: $(STAMP)
	$(PY) -m ruff check app tests benchmarks tools
	$(PY) -m ruff format --check app tests benchmarks tools

format: $(STAMP)
	$(PY) -m ruff format app tests benchmarks tools
	$(PY) -m ruff check --fix app tests benchmarks tools

# Speed checks against reference tools (age, cp) measured in the same run; ~15 min, ~4 GiB
# of free disk. Figures go to docs/PERFORMANCE.md. Not tests: machines are noisy.
bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

# Coverage-guided fuzzing of every parser of untrusted input (tests/fuzz/), FUZZ_SECONDS
# each, corpus kept in .fuzz/; `make test` runs the same harnesses for 20 s each.
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	$(PY) tests/fuzz/run.py --all $(FUZZ_SECONDS)

# The PyInstaller bundle (dist/strongroom/) and the .deb; not part of `make test`.
# See packaging/README.md. `make test-package` also installs the .deb into a scratch root
# and runs its `strongroom --version` and `--self-test`.
package: system-deps $(STAMP)
	bash packaging/build.sh

test-package: system-deps $(STAMP)
	bash packaging/test-deb.sh

clean:
	rm -rf $(VENV) build dist *.egg-info app/*.egg-info
