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
set -euo pipefail
PY=$1
MODE=${2:-wait}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$("$PY" -c 'import sys; print(sys.prefix)')
MARKER="$PREFIX/.qorven-llama-building"   # the name is options.BUILD_MARKER
LOG="$PREFIX/llama-build.log"
# -DLLAVA_BUILD=OFF drops the multimodal library (libmtmd); the LLAMA_* switches drop llama.cpp's own
# programs. (MTMD_BUILD is not an option of this binding's CMake project, so it is not passed.)
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF}"

importable() { "$PY" -c 'import llama_cpp' >/dev/null 2>&1; }
building() { [ -f "$MARKER" ] && kill -0 "$(cat "$MARKER" 2>/dev/null)" 2>/dev/null; }
install() { "$PY" -m pip install --quiet -e "$REPO[local]"; }

case "$MODE" in
  background)
    if importable || building; then exit 0; fi
    echo "local-runtime: building llama-cpp-python in the background (log: $LOG); the rest goes on meanwhile"
    setsid nohup bash -c 'echo $$ > "$1"; "$2" -m pip install --quiet -e "$3[local]" > "$4" 2>&1; rm -f "$1"' \
      _ "$MARKER" "$PY" "$REPO" "$LOG" < /dev/null > /dev/null 2>&1 &
    ;;
  wait)
    for _ in $(seq 1 1440); do   # at most two hours, in 5 s steps
      building || break
      [ "$_" = 1 ] && echo "local-runtime: waiting for the background build of llama-cpp-python ($LOG)"
      sleep 5
    done
    importable || install
    ;;
  *) echo "usage: $0 PYTHON background|wait" >&2; exit 2 ;;
esac
