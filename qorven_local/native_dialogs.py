"""The desktop window's native "open file" dialog, offered to the UI through the API.

The page cannot call pywebview itself (its ``js_api`` is blocked by the UI's Content-Security-Policy,
see ``desktop/window.py``), so the window attaches its dialog here and ``POST /v1/desktop/file-dialog``
opens it. In a browser, or headless, nothing is attached and the UI offers a path field instead.
"""

from __future__ import annotations

import threading
from typing import Callable

from qorven_local.errors import Conflict

# file filters in pywebview's form, e.g. ("GGUF models (*.gguf)",) -> the chosen path, None when cancelled
Chooser = Callable[[tuple[str, ...]], "str | None"]

# What the UI may ask a file for, and the dialog's file filters for it.
PURPOSES: dict[str, tuple[str, ...]] = {
    "gguf": ("GGUF models (*.gguf)", "All files (*.*)"),
}


class FileDialogs:
    """Holds the window's chooser while a window is open; one dialog at a time."""

    def __init__(self) -> None:
        self._chooser: Chooser | None = None
        self._open = threading.Lock()

    @property
    def available(self) -> bool:
        return self._chooser is not None

    def attach(self, chooser: Chooser) -> None:
        """The window is up: its dialog can be opened."""
        self._chooser = chooser

    def detach(self) -> None:
        """The window closed."""
        self._chooser = None

    def choose(self, purpose: str) -> str | None:
        """Show the dialog for ``purpose`` (a key of PURPOSES) and wait; the chosen path, None if cancelled.

        Conflict when there is no window (browser or headless) or another dialog is open.
        """
        chooser = self._chooser
        if chooser is None:
            raise Conflict("no desktop window is open, so there is no file dialog; type the file's path instead")
        if not self._open.acquire(blocking=False):
            raise Conflict("a file dialog is already open in the window")
        try:
            return chooser(PURPOSES[purpose])
        finally:
            self._open.release()
