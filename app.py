"""Qorven Local desktop entry point: what the one-file executable runs on a double-click.

Starts the server on loopback in this process and opens the UI in a desktop window (falling back
to the default browser when no window can be shown). ``--headless`` only serves and prints the
URL; ``--browser`` uses the browser; the ``qorven serve`` setting flags (``--home``, ``--port``, ...)
apply. See ``qorven_local/desktop/launcher.py``.
"""

from __future__ import annotations

import sys

from qorven_local.desktop.launcher import main

if __name__ == "__main__":
    sys.exit(main())
