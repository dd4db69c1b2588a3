"""The desktop entry point: app.py serves in-process, one instance per data root, and (under Xvfb)
shows the UI in a pywebview window that signs in with a one-click code, never a token."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlean

from qorven_local.desktop.single_instance import running_instance, send_command
from tests.fakes import Reply
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream
from tests.support.wait import wait_until
from tests.ui.conftest import REPO, SHOTS

URL_LINE = re.compile(r"serving at (http://\S+?)/?\s")


class App:
    """``python app.py ...`` as a child process with its output collected."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = ()) -> None:
        self.home = home
        full_env = {k: v for k, v in {**os.environ, **(env or {})}.items()
                    if not k.startswith("QORVEN_") and k not in unset}
        full_env["PYTHONUNBUFFERED"] = "1"
        full_env["PYTHONFAULTHANDLER"] = "1"  # a crash prints every thread's Python stack (see output())
        self.proc = subprocess.Popen([sys.executable, "app.py", "--home", str(home), "--port", "0", *args],
                                     cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.lines: list[str] = []

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        for line in self.lines:
            if m := regex.search(line):
                return m
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            self.lines.append(line)
            if m := regex.search(line):
                return m
        raise AssertionError(f"{pattern!r} never printed:\n{''.join(self.lines)}")

    def output(self) -> str:
        """Everything the app printed: the lines read so far and, once it has ended, the rest."""
        rest = self.proc.stdout.read() if self.proc.poll() is not None else ""
        return "".join(self.lines) + rest

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def session_rows(home: Path) -> list[tuple]:
    conn = sqlean.connect(str(home / "qorven.db"))
    try:
        return conn.execute("SELECT last_used_at FROM browser_sessions").fetchall()
    finally:
        conn.close()


def second_launch(home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QORVEN_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "app.py", "--home", str(home), "--headless"], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_headless_serves_the_ui_and_a_second_launch_hands_over(tmp_path):
    home = tmp_path / "home"
    app = App(home, "--headless", "--no-open")
    try:
        url = app.wait_for(URL_LINE.pattern).group(1)
        page = httpx.get(url + "/")
        assert page.status_code == 200 and '<script type="module" src="/ui/app.js">' in page.text
        assert httpx.get(url + "/ui/styles.css").status_code == 200

        again = second_launch(home)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already running" in again.stdout
        # The running instance answered "activate" with a fresh one-click sign-in link.
        code = app.wait_for(r"open (http://\S+)/#login=(\S+)").group(2)
        assert httpx.post(url + "/api/auth/session", json={"code": code}).status_code == 201
        assert not any("qvn_" in line for line in app.lines), "no token is ever printed"

        assert send_command(running_instance(home), "quit")
        assert app.proc.wait(20) == 0, app.output()
        assert not (home / "instance.json").exists()
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/livez", timeout=2)
    finally:
        app.stop()


def window_backend_missing() -> str | None:
    if not shutil.which("Xvfb"):
        return "Xvfb is not installed (apt-get install xvfb)"
    if importlib.util.find_spec("gi") is None:
        return "PyGObject is not installed (pip install PyGObject==3.50.0)"
    probe = subprocess.run([sys.executable, "-c", "import gi; gi.require_version('WebKit2', '4.1'); "
                            "from gi.repository import WebKit2"], capture_output=True)
    if probe.returncode:
        return "WebKitGTK 4.1 typelib is missing (apt-get install gir1.2-webkit2-4.1)"
    return None


@pytest.fixture
def xvfb():
    reason = window_backend_missing()
    if reason:
        pytest.skip(reason)
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = ":" + pipe.readline().strip()
    yield display
    proc.terminate()
    proc.wait(10)


def screenshot_when_painted(display: str, path: Path, timeout: float = 45) -> int:
    """Save the X screen as PNG (with GDK) once it shows more than a blank page; return its colours.

    The sample counts distinct colours over every 97th pixel: a blank screen or an empty page has
    one or two, a rendered screen of the app has dozens.
    """
    code = (
        "import sys, time, gi; gi.require_version('Gdk', '3.0'); from gi.repository import Gdk\n"
        "deadline = time.monotonic() + float(sys.argv[2])\n"
        "while True:\n"
        "    w = Gdk.get_default_root_window()\n"
        "    pb = Gdk.pixbuf_get_from_window(w, 0, 0, w.get_width(), w.get_height())\n"
        "    px = pb.get_pixels(); colours = len(set(px[i:i + 3] for i in range(0, len(px), 3 * 97)))\n"
        "    if colours > 20 or time.monotonic() > deadline: break\n"
        "    time.sleep(0.5)\n"
        "time.sleep(1.0)  # let the paint settle (fonts, the second half of the screen)\n"
        "w = Gdk.get_default_root_window()\n"
        "pb = Gdk.pixbuf_get_from_window(w, 0, 0, w.get_width(), w.get_height())\n"
        "pb.savev(sys.argv[1], 'png', [], []); print(colours)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path), str(timeout)], env={**os.environ, "DISPLAY": display},
                         capture_output=True, text=True, timeout=timeout + 30, check=True)
    return int(out.stdout.strip())


def seed_a_conversation(home: Path, fake) -> None:
    """Configure the fake provider and hold one chat with a tool call, so the window opens on Chat."""
    fake.enqueue(Reply.tool_calls([{"name": "calculator", "arguments": {"expression": "19*23"}}]),
                 Reply.text("19 × 23 = **437**. I checked it with the `calculator` tool.", chunks=4))
    with InProcessServer(home) as server, server.client() as api:
        configure_upstream(api, fake)
        answer = api.post("/v1/chat/completions", json={"agent_id": "prime", "message": "What is 19 times 23?",
                                                        "stream": False})
        assert answer.status_code == 200, answer.text


@pytest.mark.slow
def test_the_window_signs_in_without_a_token_and_closing_it_stops_everything(tmp_path, xvfb, fake):
    home = tmp_path / "home"
    seed_a_conversation(home, fake)
    app = App(home, env={"DISPLAY": xvfb, "PYWEBVIEW_GUI": "gtk"})
    try:
        url = app.wait_for(URL_LINE.pattern).group(1)
        app.wait_for("window open", timeout=60)
        assert not any("token=" in line or "qvn_" in line for line in app.lines), "no token may be printed"
        # The window's page traded its one-click code for a session and used it against the API.
        wait_until(lambda: any(used for (used,) in session_rows(home)), timeout=30,
                   interval=0.2, message="the window never signed in")
        SHOTS.mkdir(parents=True, exist_ok=True)
        colours = screenshot_when_painted(xvfb, SHOTS / "desktop-window.png")
        assert colours > 20, "the window stayed blank"

        again = second_launch(home, env={"DISPLAY": xvfb})
        assert again.returncode == 0 and "already running" in again.stdout, again.stdout + again.stderr

        assert send_command(running_instance(home), "quit")  # as closing the window does
        assert app.proc.wait(30) == 0, app.output()
        assert not (home / "instance.json").exists()
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/livez", timeout=2)
    finally:
        app.stop()


def test_without_a_display_the_browser_opens_with_a_sign_in_link(tmp_path):
    home = tmp_path / "home"
    # No display, so no window; webbrowser runs `true <url>`: nothing really opens during the test.
    app = App(home, env={"BROWSER": "true"}, unset=("DISPLAY", "WAYLAND_DISPLAY"))
    try:
        app.wait_for("No desktop window available")
        url, code = app.wait_for(r"open (http://\S+)/#login=([A-Za-z0-9_-]+)").groups()
        res = httpx.post(url + "/api/auth/session", json={"code": code})
        assert res.status_code == 201, res.text
        assert httpx.get(url + "/api/agents", cookies={"qorven_session": res.cookies["qorven_session"]}).status_code == 200
        assert not any("qvn_" in line for line in app.lines)
        app.proc.send_signal(signal.SIGTERM)
        assert app.proc.wait(20) == 0, app.output()
    finally:
        app.stop()


@pytest.mark.slow
def test_the_window_opens_its_native_file_dialog_for_the_page(tmp_path, xvfb):
    """POST /v1/desktop/file-dialog opens GTK's own "Open file" dialog in the window (driven here with
    xdotool as a person would type): the typed file comes back, and Escape answers null."""
    if not shutil.which("xdotool"):
        pytest.skip("xdotool is not installed (apt-get install xdotool)")
    home = tmp_path / "home"
    picked = tmp_path / "Downloads" / "my-model.gguf"
    picked.parent.mkdir()
    picked.write_bytes(b"GGUF")
    app = App(home, env={"DISPLAY": xvfb, "PYWEBVIEW_GUI": "gtk", "QORVEN_LOCAL_STARTER": "false"})

    def xdotool(*args: str) -> str:
        return subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": xvfb}, capture_output=True,
                              text=True, timeout=30).stdout

    def choose(keys: list[tuple[str, ...]]) -> dict:
        answers: list[httpx.Response] = []
        asking = threading.Thread(target=lambda: answers.append(api.post(
            "/v1/desktop/file-dialog", json={"purpose": "gguf"}, timeout=60)))
        asking.start()
        dialog = wait_until(lambda: xdotool("search", "--name", "^Open file$").split(), timeout=30, interval=0.2,
                            message="the file dialog never opened")[0]
        time.sleep(0.5)  # mapped, then drawn
        xdotool("windowfocus", "--sync", dialog)  # Xvfb has no window manager to give it the focus
        for key in keys:
            xdotool(*key)
        asking.join(30)
        assert answers and answers[0].status_code == 200, answers
        return answers[0].json()

    try:
        url = app.wait_for(URL_LINE.pattern).group(1)
        app.wait_for("window open", timeout=60)
        token = (home / "admin-token").read_text().strip()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
            assert api.get("/v1/desktop").json() == {"object": "desktop", "window": True, "file_dialog": True,
                                                     "open_folder": True}
            # Ctrl+L opens the location field first (typing "/" also does, but the keys right after it are lost)
            assert choose([("key", "ctrl+l"), ("sleep", "0.5"), ("type", "--delay", "15", str(picked)),
                           ("sleep", "0.3"), ("key", "Return")]) == {
                "object": "file_choice", "path": str(picked)}
            assert choose([("key", "Escape")]) == {"object": "file_choice", "path": None}
        assert send_command(running_instance(home), "quit")
        assert app.proc.wait(30) == 0, app.output()
    finally:
        app.stop()
