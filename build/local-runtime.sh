#!/usr/bin/env bash
# Install llama-cpp-python, the runtime of the `local` provider kind (GGUF models in-process).
# There is no wheel for this platform, so pip compiles llama.cpp; only what the app uses is built
# (the binding's shared libraries: no multimodal mtmd/llava library, tools, examples, tests or server).
#
#   local-runtime.sh PYTHON background   start the build detached and return at once (`make run`):
#                                        the app serves meanwhile and reports the runtime as `preparing`
#                                        (it reads the pid in <venv>/.qorven-llama-building), then picks
#                                        the binding up without a restart
#   local-runtime.sh PYTHON wait         wait for a background build, else build now (`make test`)
#   local-runtime.sh PYTHON now          build (or reuse this machine's built wheel) and install, in the foreground
set -euo pipefail
PY=$1
MODE=${2:-wait}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$("$PY" -c 'import sys; print(sys.prefix)')
MARKER="$PREFIX/.qorven-llama-building"   # the name is options.BUILD_MARKER
LOG="$PREFIX/llama-build.log"
# -DLLAVA_BUILD=OFF drops the multimodal library (libmtmd); the LLAMA_* switches drop llama.cpp's own
# programs. (MTMD_BUILD is not an option of this binding's CMake project, so it is not passed.)
ONLY_WHAT_WE_USE="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF"
# Portable CPU code on x86-64: llama.cpp otherwise compiles for the build machine's own CPU (-march=native).
# Those libraries ship in the one-file executable, so they must run on other people's CPUs; and a native
# build also uses what the CPU lists but the OS may not grant: on a Xeon advertising AMX in a sandbox that
# never enabled AMX tiles, the first matrix product crashed the process (SIGSEGV at `ldtilecfg`). AVX2 +
# FMA + F16C is every x86-64 CPU since 2013-2015.
if [ "$(uname -m)" = x86_64 ] || [ "$(uname -m)" = AMD64 ]; then
  PORTABLE="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
else
  PORTABLE=""
fi
export CMAKE_ARGS="${CMAKE_ARGS:-$ONLY_WHAT_WE_USE $PORTABLE}"
SPEC=$(grep -o '"llama-cpp-python[^"]*"' "$REPO/pyproject.toml" | tr -d '"')
# The built wheel is kept in a folder named after the build flags and the requirement. pip's own cache
# does not tell builds apart by their flags (it would hand back a wheel built with other ones), so pip
# builds without it, once per set of flags, and every later venv on this machine installs that wheel.
KEY=$(printf '%s|%s' "$CMAKE_ARGS" "$SPEC" | sha256sum | cut -c1-16)
WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/qorven-local/llama-wheels/$KEY"

BUILT="$PREFIX/.qorven-llama-build"      # the KEY of the build installed in this venv
# Installed and built with these flags (a venv that has an older, native build gets the portable one).
importable() { "$PY" -c 'import llama_cpp' >/dev/null 2>&1 && [ "$(cat "$BUILT" 2>/dev/null)" = "$KEY" ]; }
building() { [ -f "$MARKER" ] && kill -0 "$(cat "$MARKER" 2>/dev/null)" 2>/dev/null; }
install() {
  if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    local part="$WHEELS.part.$$"
    mkdir -p "$part"
    "$PY" -m pip wheel --quiet --no-cache-dir --no-deps --wheel-dir "$part" "$SPEC"
    mkdir -p "$WHEELS" && mv "$part"/*.whl "$WHEELS"/ && rm -rf "$part"   # only a finished build is found
  fi
  "$PY" -m pip install --quiet --force-reinstall --no-deps --no-index --find-links "$WHEELS" "$SPEC"
  "$PY" -m pip install --quiet -e "$REPO[local]"   # its dependencies and gguf
  echo "$KEY" > "$BUILT"
}

case "$MODE" in
  background)
    if importable || building; then exit 0; fi
    echo "local-runtime: building llama-cpp-python in the background (log: $LOG); the rest goes on meanwhile"
    setsid nohup bash -c 'echo $$ > "$1"; bash "$2" "$3" now > "$4" 2>&1; rm -f "$1"' \
      _ "$MARKER" "$REPO/build/local-runtime.sh" "$PY" "$LOG" < /dev/null > /dev/null 2>&1 &
    ;;
  wait)
    for _ in $(seq 1 1440); do   # at most two hours, in 5 s steps
      building || break
      [ "$_" = 1 ] && echo "local-runtime: waiting for the background build of llama-cpp-python ($LOG)"
      sleep 5
    done
    importable || install
    ;;
  now) install ;;   # the background build's own step
  *) echo "usage: $0 PYTHON background|wait|now" >&2; exit 2 ;;
esac
