# Two commands do everything on a fresh machine (Python 3.11 + pip):
#   make demo   create .venv, install, train the default model on the built-in task, print scores
#   make test   create .venv if missing, install with test extras, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable '.[test,torch,export]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/seq2seq demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs .pytest_cache
