"""The pywebview window around the UI; it signs in like the printed link does.

The window opens ``/?desktop=1#login=<code>``: a single-use code that expires in ten minutes, which
the page trades for the ``qorven_session`` cookie and removes from the address bar. No token ever
reaches the page, the URL, the HTML or argv. The cookie lives in the window's storage under the
data root, so a reload stays signed in. pywebview's ``js_api`` is not used: its injected stubs are
built with ``new Function``, which the UI's Content-Security-Policy (``script-src 'self'``, no eval)
blocks, and that policy is worth more than the convenience.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from webview import Window

log = logging.getLogger("qorven.desktop")

TITLE = "Qorven Local"
SIZE = (1280, 800)
MIN_SIZE = (900, 600)


class GuiUnavailable(RuntimeError):
    """No GUI backend (no display, or neither GTK/WebKit nor Qt bindings installed)."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def has_display() -> bool:
    """Whether a window could be shown at all (Linux/BSD need X11 or Wayland)."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class DesktopWindow:
    """One app window; ``run()`` blocks on the GUI loop (main thread) until the window closes."""

    def __init__(self, url: str, *, storage_dir: str | None = None,
                 on_loaded: Callable[[], None] | None = None) -> None:
        if not has_display():
            raise GuiUnavailable("no display (DISPLAY / WAYLAND_DISPLAY unset)")
        try:
            import webview
        except ImportError as exc:  # pywebview itself missing
            raise GuiUnavailable(f"pywebview is not installed: {exc}") from exc
        self._webview = webview
        self.url = url
        self.origin = _origin(url)
        self._storage_dir = storage_dir
        self._on_loaded = on_loaded
        self._window: Window | None = None
        self._closed = threading.Event()

    def run(self, gui: str | None = None) -> None:
        """Show the window and run the GUI loop until it closes. Raises GuiUnavailable."""
        webview = self._webview
        try:
            guilib = importlib.import_module("webview.guilib")
            guilib.initialize(gui)  # fails fast with WebViewException when no backend is usable
        except Exception as exc:
            raise GuiUnavailable(str(exc)) from exc
        window = self._window = webview.create_window(
            TITLE, self.url, width=SIZE[0], height=SIZE[1], min_size=MIN_SIZE,
            text_select=True, background_color=_background())
        window.events.loaded += self._loaded
        window.events.closed += self._closed.set
        # Not private: the sign-in cookie and the theme choice persist in the data root, so a
        # reload or the next launch's page stays signed in.
        webview.start(self._started, gui=gui, private_mode=self._storage_dir is None, storage_path=self._storage_dir,
                      debug=bool(os.environ.get("QORVEN_DEBUG_WINDOW")))
        self._closed.set()

    @staticmethod
    def _on_gtk() -> bool:
        guilib = importlib.import_module("webview.guilib")
        return guilib.guilib is not None and guilib.guilib.__name__.endswith(".gtk")

    def _started(self) -> None:
        """Runs in a thread once the GUI loop is up: hook SIGTERM/SIGINT into the GTK loop."""
        try:
            if self._on_gtk():
                import signal

                from gi.repository import GLib
                for sig in (signal.SIGTERM, signal.SIGINT):
                    GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, self._signal_close)
        except Exception:
            log.debug("could not hook signals into the GUI loop", exc_info=True)

    def _signal_close(self) -> bool:
        self.close()
        return False

    def _loaded(self) -> None:
        """Each page load: report the app's own page as open (a page outside the app is not ours)."""
        window = self._window
        if window is None:
            return
        try:
            url = window.get_current_url() or ""
        except Exception:
            url = ""
        if _origin(url) != self.origin:
            log.warning("a page outside the app loaded in the window: %s", _origin(url))
            return
        if self._on_loaded:
            self._on_loaded()

    def choose_file(self, file_types: tuple[str, ...]) -> str | None:
        """The native "open file" dialog (any thread; waits for the person): the chosen path, or None."""
        window = self._window
        if window is None or self._closed.is_set():
            return None
        chosen = window.create_file_dialog(self._webview.FileDialog.OPEN, allow_multiple=False, file_types=file_types)
        return str(chosen[0]) if chosen else None

    def activate(self) -> bool:
        """Bring the window to the front (a second launch asked for it)."""
        if self._window is None or self._closed.is_set():
            return False
        self._window.restore()
        self._window.show()
        return True

    def close(self) -> bool:
        window = self._window
        if window is None or self._closed.is_set():
            return False
        try:
            on_gtk = self._on_gtk()
        except Exception:
            on_gtk = False
        if on_gtk:
            # pywebview's GTK restore() (activate) does its work two idle callbacks deep: a destroy
            # queued in between ran first, and the restore then acted on the destroyed window (SIGSEGV
            # on a quit right after a second launch). At low priority the destroy waits for every
            # default-priority callback pending, the nested one included.
            from gi.repository import GLib
            GLib.idle_add(lambda: window.destroy() and False, priority=GLib.PRIORITY_LOW)
        else:
            window.destroy()
        return True


def _background() -> str:
    """The light theme's page colour, so the window does not flash white before the first paint."""
    return "#F6F6F7"
