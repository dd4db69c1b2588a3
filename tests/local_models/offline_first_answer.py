"""Run inside a network namespace with only loopback (``unshare -n``): start Qorven on an empty data
root, open the link it prints in headless Chromium, ask one question in the UI, print what happened.

    unshare -n python tests/local_models/offline_first_answer.py --shot PNG -- COMMAND...

COMMAND is the program to start (``python app.py`` or a built executable); it gets ``--browser
--no-open`` and an empty data root (with ``--portable``, the ``qorven-data/`` beside the executable).
Printed on the last line as JSON: the link, the interfaces seen, whether a token form showed, the
answer's text, the seconds to the answer, and whether the chat named the tiny starter model with a
way to a bigger one. Exit status 0 when an answer arrived.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINK = re.compile(r"open (http://\S+)")
QUESTION = "Hello, who are you?"


def read_link(proc: subprocess.Popen, output: list[str], timeout: float) -> str:
    """The one-click link the app prints (whatever its fragment: #token= or #login=)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise SystemExit("the app exited:\n" + "".join(output))
            continue
        output.append(line)
        match = LINK.search(line)
        if match:
            return match.group(1)
    raise SystemExit("the app printed no link in time:\n" + "".join(output))


def ask_in_browser(link: str, shot: Path, timeout_ms: int) -> dict:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        started = time.monotonic()
        page.goto(link)
        composer = page.get_by_label("Message")
        expect(composer).to_be_visible(timeout=30_000)
        token_form = page.get_by_role("heading", name="Connect to Qorven").count() > 0
        composer.fill(QUESTION)
        composer.press("Enter")
        reply = page.locator("article.msg.assistant").last.locator(".msg-body")
        expect(reply).not_to_be_empty(timeout=timeout_ms)
        expect(page.get_by_role("button", name="Send")).to_be_visible(timeout=timeout_ms)  # the answer ended
        answer = reply.inner_text()
        seconds = round(time.monotonic() - started, 1)
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        # the chat says the model is the tiny starter one and leads to the Models screen
        hint = page.get_by_role("button", name="Tiny starter model: get a bigger one")
        starter_hint = hint.is_visible()
        if starter_hint:
            hint.click()
            card = page.get_by_role("region", name="Models on this computer")
            try:
                card.wait_for(timeout=15_000)
            except Exception:  # playwright's TimeoutError: the Models screen never showed the card
                starter_hint = False
        browser.close()
    origin = link.split("#")[0].rstrip("/")
    return {"token_form": token_form, "answer": answer, "seconds": seconds, "starter_hint": starter_hint,
            "foreign_requests": [u for u in requests if not u.startswith(origin) and not u.startswith("data:")]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shot", type=Path, required=True)
    parser.add_argument("--portable", action="store_true", help="no QORVEN_HOME: the executable's own "
                        "qorven-data/ beside it is the data root")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)  # a new namespace's loopback starts down
    interfaces = [name for _, name in socket.if_nameindex()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QORVEN_") and "proxy" not in k.lower()}
    env.update({"QORVEN_PORT": "0", "PYTHONUNBUFFERED": "1", "DISPLAY": ""})
    if not args.portable:
        env["QORVEN_HOME"] = tempfile.mkdtemp(prefix="offline-home-")
    output: list[str] = []
    proc = subprocess.Popen([*args.command, "--browser", "--no-open"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    try:
        link = read_link(proc, output, timeout=90)
        result = ask_in_browser(link, args.shot, int(args.timeout * 1000))
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(json.dumps({"link": link.split("#")[0], "interfaces": interfaces, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
