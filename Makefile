# Every target creates .venv and installs the project into it when missing: a fresh clone needs
# only `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint audit fmt schema bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/entraform plan

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests

lint: $(STAMP)
	$(BIN)/ruff format --check reconciler tests bench
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/mypy --strict reconciler
	$(BIN)/bandit -q -c pyproject.toml -r reconciler
	$(BIN)/zizmor --offline .github/workflows

# Known vulnerabilities in the installed dependencies, from PyPI's advisory data (needs the network).
# --strict fails on a dependency it could not check, instead of reporting "no known vulnerabilities"
# about nothing; `timeout` bounds a service that accepts connections but never answers.
audit: $(STAMP)
	timeout 600 $(BIN)/pip-audit --strict --skip-editable --progress-spinner off --timeout 30 \
	  || { echo "make audit: failed: a known vulnerability above, or PyPI's advisory data was not reachable" >&2; exit 1; }

fmt: $(STAMP)
	$(BIN)/ruff format reconciler tests bench
	$(BIN)/ruff check --fix reconciler tests bench

schema: $(STAMP)
	$(BIN)/entraform schema --out schemas

# The one benchmark (docs/benchmarks.md): BENCH="--quick" for 1k and 10k users only.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) .entraform .pytest_cache .mypy_cache .ruff_cache
