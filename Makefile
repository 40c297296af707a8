# Guichet — every target works on a fresh machine of the project's kind.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install install-test run test lint bench clean system-deps

# torch first, pinned: the CPU wheel is on disk; an unpinned torch pulls CUDA.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(VENV)/bin/guichet serve --index-if-missing

system-deps:
	bash scripts/system-deps.sh

lint: install-test
	$(VENV)/bin/ruff check gateway channels kb_index tests bench
	$(VENV)/bin/mypy

test: install-test system-deps lint
	bash scripts/run-tests.sh

bench: install-test
	$(PY) -m bench

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
