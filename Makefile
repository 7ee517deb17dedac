# Two commands do everything on a fresh machine (Python 3.11 + pip):
#   make demo   create .venv, install the base package, train the default model on the built-in task, print scores
#   make test   create .venv if missing, install with every extra and the test tools, run the whole suite
# Both install the exact versions in constraints.txt (pyproject.toml holds the ranges the package
# accepts); `make constraints` rewrites that file from the venv after an upgrade the suite passed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --constraint constraints.txt

.PHONY: demo test constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when pyproject.toml or constraints.txt changes.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) --editable .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) --editable '.[all,test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/seq2seq demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

constraints: $(VENV)/.installed-test
	$(BIN)/python .ci/constraints.py

clean:
	rm -rf $(VENV) runs .pytest_cache
