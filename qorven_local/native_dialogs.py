"""The desktop window's native "open file" dialog and "show this folder", offered to the UI through the API.

The page cannot call pywebview itself (its ``js_api`` is blocked by the UI's Content-Security-Policy,
see ``desktop/window.py``), so the window attaches its dialog here and ``POST /v1/desktop/file-dialog``
opens it. In a browser, or headless, nothing is attached and the UI offers a path field instead.
While the window is open, ``POST /v1/desktop/open-folder`` also shows one of the app's folders in the
system's file manager (Explorer, Finder, or whatever ``xdg-open`` picks).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
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

    def show_folder(self, folder: Path) -> None:
        """Open ``folder`` (created if missing) in the system's file manager; returns once it is launched.

        Conflict when there is no window: a browser may be on another computer than the folder, and a
        headless server has no screen to show it on.
        """
        if self._chooser is None:
            raise Conflict("no desktop window is open, so no folder can be shown; copy its path instead")
        folder.mkdir(parents=True, exist_ok=True)
        if sys.platform == "win32":
            os.startfile(folder)  # type: ignore[attr-defined]  # Windows only
            return
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        found = shutil.which(opener)
        if found is None:
            raise Conflict(f"this computer has no {opener} to show folders with; copy the folder's path instead")
        child = subprocess.Popen([found, str(folder)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        # xdg-open may hand over to a file manager that runs on; reap it whenever it ends
        threading.Thread(target=child.wait, name="folder-opener", daemon=True).start()
