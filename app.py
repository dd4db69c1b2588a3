"""Qorven Local desktop entry point.

``python app.py`` (or the one-file executable) starts the server on loopback. Until the desktop
window lands this runs headless and prints the URL; flags are those of ``qorven serve``.
"""

from __future__ import annotations

import sys

from qorven_local.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
