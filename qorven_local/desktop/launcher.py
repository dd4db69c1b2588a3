"""``app.py``: what a double-click runs.

Start the server on a free loopback port in this process, wait for ``/readyz``, then show the UI:
in a pywebview window (the default), in the default browser when no GUI backend is available
(``--browser`` forces it), or not at all with ``--headless``. Each way signs in with a one-click
``#login=`` link (a single-use code traded for the ``qorven_session`` cookie); no token is shown.
Closing the window stops the server cleanly. A second launch on the same data root hands over to the
running one (its window comes to the front, or a browser tab opens) and exits.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time
import webbrowser

from qorven_local import __version__
from qorven_local.cli.common import settings_from_args
from qorven_local.config import Config, add_setting_flags, load_config
from qorven_local.desktop.single_instance import InstanceLock, running_instance, send_command
from qorven_local.desktop.window import DesktopWindow, GuiUnavailable

log = logging.getLogger("qorven.desktop")

READY_TIMEOUT = 60.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qorven-local", description="Qorven Local: agents on your computer.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--headless", action="store_true", help="Only serve the API and UI; print the URL.")
    mode.add_argument("--browser", action="store_true", help="Open the UI in the default browser instead of a window.")
    parser.add_argument("--no-open", action="store_true", help=argparse.SUPPRESS)  # browser mode without opening (tests)
    parser.add_argument("--version", action="version", version=f"Qorven Local {__version__}")
    add_setting_flags(parser)
    return parser.parse_args(argv)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress binds
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def wait_ready(url: str, timeout: float = READY_TIMEOUT, stop: threading.Event | None = None) -> None:
    """Poll ``/readyz`` on loopback until it answers 200 (the embedder warming up may take a moment);
    return early when ``stop`` is set (a signal came during the start)."""
    import urllib.error  # imported on first use: start-up time
    import urllib.request

    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
        try:
            with urllib.request.urlopen(url + "readyz", timeout=2) as res:
                if res.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.05)
    if stop is not None and stop.is_set():
        return
    raise RuntimeError(f"the server did not become ready in {timeout:.0f} s ({last})")


def hand_over(config: Config) -> int:
    """Another launch holds the data root: ask it to show itself, then exit."""
    info = None
    for _ in range(50):  # it may still be starting: instance.json appears once it serves
        info = running_instance(config.home)
        if info:
            break
        time.sleep(0.1)
    if info and send_command(info, "activate"):
        print(f"Qorven Local is already running at {info.get('url')} (data: {config.home}); "
              f"switched to it.", flush=True)
        return 0
    print(f"Qorven Local is already running on this data folder ({config.home}) but did not answer. "
          f"Close it, or start with another --home.", file=sys.stderr, flush=True)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = load_config(settings_from_args(args))
    except ValueError as exc:
        print(f"qorven-local: {exc}", file=sys.stderr)
        return 2
    config.ensure_dirs()

    lock = InstanceLock(config.home)
    if not lock.acquire():
        return hand_over(config)
    try:
        return _run(args, config, lock)
    finally:
        lock.release()


def _run(args: argparse.Namespace, config: Config, lock: InstanceLock) -> int:
    stop = threading.Event()
    stop_on_signals(stop)  # before anything starts: a SIGTERM during start-up still stops cleanly
    from qorven_local.memory.embedder import preload_embedder

    preload_embedder()
    from qorven_local.desktop.tokens import LaunchTokens
    from qorven_local.runtime import Runtime

    # A stable port when it is free (other tools remember it), else any free loopback port.
    if config.sources.get("port") == "default" and not port_is_free(config.host, config.port):
        config.values["port"] = 0
    runtime = Runtime(config)
    first_token = runtime.start()
    assert runtime.ctx is not None  # start() built it
    sessions = runtime.ctx.browser_sessions
    launch_tokens = LaunchTokens(runtime.ctx.tokens)
    launch_tokens.sweep()  # we hold the instance lock: live launch tokens are an earlier launch's
    window: DesktopWindow | None = None
    try:
        url = runtime.url
        wait_ready(url, stop=stop)
        if stop.is_set():  # SIGTERM/SIGINT during the start: stop now, cleanly
            return 0
        if first_token:  # the path only: the token itself (QORVEN_TOKEN's value, maybe) is never printed
            print(f"First start: the admin token for other tools is saved in {config.admin_token_path}", flush=True)

        mode = "headless" if args.headless else "browser" if args.browser else "window"
        if mode == "window":
            try:
                # The window signs in like the printed link does: a single-use code, never a token.
                window = DesktopWindow(sessions.login_link(url, "?desktop=1"),
                                       storage_dir=str(config.home / "webview"),
                                       on_loaded=lambda: print(f"Qorven Local window open on {url}", flush=True))
            except GuiUnavailable as exc:
                print(f"No desktop window available ({exc}); using the browser instead.", flush=True)
                mode = "browser"

        def open_browser() -> bool:
            link = sessions.login_link(url)
            print(f"Qorven Local {__version__}: open {link}", flush=True)
            if not args.no_open:
                threading.Thread(target=webbrowser.open, args=(link,), daemon=True).start()
            return True

        def on_command(command: str) -> bool:
            if command == "quit":
                if window is not None and window.close():
                    return True
                stop.set()
                return True
            if command == "activate":
                if window is not None and window.activate():
                    return True
                return open_browser()
            return False

        lock.publish(url=url, port=runtime.port, mode=mode, handler=on_command)
        print(f"Qorven Local {__version__} serving at {url}  (data: {config.home})", flush=True)

        if mode == "window" and window is not None:
            runtime.ctx.file_dialogs.attach(window.choose_file)  # the page's "Choose file…" opens it
            try:
                window.run()
                return 0
            except Exception as exc:  # GuiUnavailable or a backend that failed to start
                print(f"The desktop window could not open ({exc}); using the browser instead.", flush=True)
                runtime.ctx.file_dialogs.detach()
                window = None
                mode = "browser"
        if mode == "browser":
            open_browser()
        else:
            print(f"Headless: sign in at {sessions.login_link(url)} (works once, for 10 minutes; "
                  f"`qorven login` prints a new one); Ctrl-C stops.", flush=True)
        wait_for_stop(stop)  # until SIGINT/SIGTERM or a "quit" command
        return 0
    finally:
        launch_tokens.revoke_all()  # while the database is still open
        runtime.stop()


def stop_on_signals(stop: threading.Event) -> None:
    """Make SIGINT/SIGTERM set ``stop`` (main thread only). Installed before the server starts: a signal
    that came between the printed URL and the wait used to kill the process mid-way (exit -15)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())


def wait_for_stop(stop: threading.Event) -> None:
    """Block until ``stop`` is set (by SIGINT/SIGTERM or a "quit" command)."""
    while not stop.wait(0.5):
        pass
