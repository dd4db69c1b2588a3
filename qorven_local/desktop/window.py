"""The pywebview window around the UI, and how the page gets its API token.

The token never travels in the URL, the HTML or argv, so it is not in history, logs or ``ps``.
It goes through pywebview's bridge: once the page has loaded, and only while the window shows the
app's own origin (external links open in the system browser), the window runs a one-line script
that hands the token to the page (``window.__qorvenDesktopToken`` plus a ``qorven:desktop-token``
event; the UI takes it, deletes the global and keeps the token in sessionStorage). pywebview's ``js_api`` is not used: its injected stubs are built with
``new Function``, which the UI's Content-Security-Policy (``script-src 'self'``, no eval) blocks,
and that policy is worth more than the convenience.
"""

from __future__ import annotations

import importlib
import json
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
TOKEN_EVENT = "qorven:desktop-token"


class GuiUnavailable(RuntimeError):
    """No GUI backend (no display, or neither GTK/WebKit nor Qt bindings installed)."""


def token_script(token: str) -> str:
    """The script that hands the token to the page (JSON-quoted: a token can never break out).

    It both leaves the token where the page looks first (WebKitGTK may report the load finished
    before the page's module scripts ran) and fires the event a page already waiting listens for.
    """
    quoted = json.dumps(token)
    return (f"window.__qorvenDesktopToken = {quoted};"
            f"window.dispatchEvent(new CustomEvent({json.dumps(TOKEN_EVENT)}, {{detail: {quoted}}}));")


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

    def __init__(self, url: str, token: str, *, storage_dir: str | None = None,
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
        self._token = token
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
        # Not private: the page's localStorage (only the theme choice) persists in the data root.
        # The token lives in sessionStorage, which WebKit keeps in memory only.
        webview.start(self._started, gui=gui, private_mode=self._storage_dir is None, storage_path=self._storage_dir,
                      debug=bool(os.environ.get("QORVEN_DEBUG_WINDOW")))
        self._closed.set()

    def _started(self) -> None:
        """Runs in a thread once the GUI loop is up: hook SIGTERM/SIGINT into the GTK loop."""
        try:
            guilib = importlib.import_module("webview.guilib")
            if guilib.guilib is not None and guilib.guilib.__name__.endswith(".gtk"):
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
        """Each page load: hand the token over if (and only if) the page is the app's own."""
        window = self._window
        if window is None:
            return
        try:
            url = window.get_current_url() or ""
        except Exception:
            url = ""
        if _origin(url) != self.origin:
            log.warning("not giving the token to a page outside the app: %s", _origin(url))
            return
        window.run_js(token_script(self._token))
        if self._on_loaded:
            self._on_loaded()

    def activate(self) -> bool:
        """Bring the window to the front (a second launch asked for it)."""
        if self._window is None or self._closed.is_set():
            return False
        self._window.restore()
        self._window.show()
        return True

    def close(self) -> bool:
        if self._window is None or self._closed.is_set():
            return False
        self._window.destroy()
        return True


def _background() -> str:
    """The light theme's page colour, so the window does not flash white before the first paint."""
    return "#F6F6F7"
