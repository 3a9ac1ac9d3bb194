# Set-up, main job, tests and docs. Every target builds on `setup`, which creates .venv/ once
# and does nothing later unless the pinned requirements or the packaging files change.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.holo-setup-done

.PHONY: setup run test test-slow docs docs-quarto export bench artifacts

setup: $(STAMP)

$(STAMP): requirements/lock.txt setup.py settings.ini
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11 $(MAKECMDGOALS)" >&2; exit 2; }
	@$(PYTHON) tools/check_python.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: setup
	$(BIN)/holo run $(ARGS)

test: setup
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

test-slow: setup
	HOLO_TEST_FLAGS=slow $(BIN)/python -m pytest tests $(PYTEST_ARGS)

docs: setup
	$(BIN)/python tools/build_docs.py

docs-quarto: setup
	$(BIN)/nbdev_docs

export: setup
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean

bench: setup
	$(BIN)/python bench/bench_train.py

# The small precomputed run the analysis notebooks read (regenerate after changing the trainer).
artifacts: setup
	rm -rf nbs/artifacts/quick_run
	$(BIN)/holo run --preset quick --out nbs/artifacts/quick_run --no-analysis --no-progress
	rm -f nbs/artifacts/quick_run/checkpoint.pt nbs/artifacts/quick_run/run.log
