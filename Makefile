# Two commands a new user needs: `make demo` and `make test`. Each makes .venv and installs what it needs.
# `make demo ARGS='--port 18200'` passes options to `goodthings demo`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The suite runs in four worker processes (pytest-xdist) on this 2-core kind of machine: most of
# a test's time is spent waiting for a hub, a broker or a browser to answer, not computing, so
# four keep both cores busy (about 12 minutes, against 44 in one process).
TEST_WORKERS ?= 4

.PHONY: demo test fuzz lint typecheck format clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "goodthings needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(STAMP)
	$(BIN)/goodthings demo $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=30

# Coverage-guided fuzzing of the SenML codec (atheris), FUZZ_SECONDS per format, then the
# property tests with a larger budget. What the fuzzer finds goes to .fuzz/ (not committed);
# a crash is written there as crash-<hash>, to be added to fuzz/corpus/ once fixed.
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	@$(BIN)/python -c 'import atheris' 2>/dev/null || $(BIN)/python -m pip install --quiet atheris
	mkdir -p .fuzz/senml_json .fuzz/senml_cbor
	$(BIN)/python fuzz/fuzz_senml.py json -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		-dict=fuzz/senml_json.dict -artifact_prefix=.fuzz/ .fuzz/senml_json fuzz/corpus/senml_json
	$(BIN)/python fuzz/fuzz_senml.py cbor -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		-artifact_prefix=.fuzz/ .fuzz/senml_cbor fuzz/corpus/senml_cbor
	GOODTHINGS_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest tests/ingest/test_senml_fuzz.py -q

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-artifacts .fuzz
