# Strongroom: the two commands a newcomer needs are `make run` and `make test`.
# Both set everything up first (system packages, a virtual environment, the package).

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: run test lint format bench setup system-deps clean package test-package torture

run: system-deps $(STAMP)
	$(VENV)/bin/strongroom

test: system-deps $(STAMP)
	$(PY) -m ruff check app tests benchmarks
	$(PY) -m pytest $(PYTEST_ARGS)

setup: system-deps $(STAMP)

# Power cuts at every crash point, and an I/O error at every request, of every vault
# operation (tests/test_power_loss.py; `make test` tries a sample). About half an hour.
torture: system-deps $(STAMP)
	STRONGROOM_TORTURE=1 $(PY) -m pytest tests/test_power_loss.py -p no:cacheprovider $(PYTEST_ARGS)

# The tests use the Debian `age` CLI as an independent implementation, and the GUI needs
# the X/xcb client libraries Qt loads even offscreen. Installed only when missing.
system-deps:
	@bash packaging/install-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check app tests benchmarks
	$(PY) -m ruff format --check app tests benchmarks

format: $(STAMP)
	$(PY) -m ruff format app tests benchmarks
	$(PY) -m ruff check --fix app tests benchmarks

# Speed checks against reference tools (age, cp) measured in the same run; ~15 min, ~4 GiB
# of free disk. Figures go to docs/PERFORMANCE.md. Not tests: machines are noisy.
bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

# The PyInstaller bundle (dist/strongroom/) and the .deb; not part of `make test`.
# See packaging/README.md. `make test-package` also installs the .deb into a scratch root
# and runs its `strongroom --version` and `--self-test`.
package: system-deps $(STAMP)
	bash packaging/build.sh

test-package: system-deps $(STAMP)
	bash packaging/test-deb.sh

clean:
	rm -rf $(VENV) build dist *.egg-info app/*.egg-info
