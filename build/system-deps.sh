#!/usr/bin/env bash
# Install the Debian packages the test suite drives (Chromium for UI tests, Xvfb for the window
# test), only those missing. Needs root or passwordless sudo; otherwise says what to install.
set -euo pipefail
# chromium: browser tests; xvfb + WebKitGTK + GObject headers: the pywebview window test
# (PyGObject builds against them; xdotool answers its native file dialog); strace: the portable
# write audit (make test-build)
packages=(chromium xvfb xdotool strace gir1.2-webkit2-4.1 libgirepository1.0-dev libcairo2-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not a Debian system; install these yourself: ${missing[*]}" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "system-deps: need root to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
