"""``/v1/desktop``: the desktop window's native file dialog and "show this folder", used by the page
through the API (the window attaches its dialog; a browser or headless run has none and says so)."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from tests.support.envelope import check_envelope
from tests.support.servers import InProcessServer
from tests.support.wait import wait_until


@pytest.fixture
def site(tmp_path):
    with InProcessServer(tmp_path / "home") as srv, srv.client() as api:
        yield srv, api


def test_without_a_window_there_is_no_dialog_and_the_page_is_told_to_type_a_path(site):
    srv, api = site
    assert api.get("/v1/desktop").json() == {"object": "desktop", "window": False, "file_dialog": False,
                                             "open_folder": False}
    refused = check_envelope(api.post("/v1/desktop/file-dialog", json={"purpose": "gguf"}), 409, "conflict")
    assert "type the file's path" in refused["error"]["message"]
    refused = check_envelope(api.post("/v1/desktop/open-folder", json={"folder": "data"}), 409, "conflict")
    assert "copy its path" in refused["error"]["message"]


def test_the_window_dialog_answers_the_chosen_file_or_null_when_cancelled(site, tmp_path):
    srv, api = site
    picked = tmp_path / "Downloads" / "model.Q4_K_M.gguf"
    asked: list[tuple[str, ...]] = []
    answers = iter([str(picked), None])
    srv.ctx.file_dialogs.attach(lambda file_types: (asked.append(file_types), next(answers))[1])
    assert api.get("/api/desktop").json()["file_dialog"] is True
    r = api.post("/api/desktop/file-dialog", json={"purpose": "gguf"})
    assert r.status_code == 200, r.text
    assert r.json() == {"object": "file_choice", "path": str(picked)}
    assert asked == [("GGUF models (*.gguf)", "All files (*.*)")]
    assert api.post("/v1/desktop/file-dialog", json={"purpose": "gguf"}).json()["path"] is None  # cancelled
    srv.ctx.file_dialogs.detach()
    check_envelope(api.post("/v1/desktop/file-dialog", json={"purpose": "gguf"}), 409, "conflict")


def test_one_dialog_at_a_time(site):
    srv, api = site
    release = threading.Event()
    opened = threading.Event()

    def slow_person(file_types):
        opened.set()
        release.wait(10)
        return "/home/you/first.gguf"

    srv.ctx.file_dialogs.attach(slow_person)
    results: list[dict] = []
    first = threading.Thread(target=lambda: results.append(
        api.post("/v1/desktop/file-dialog", json={"purpose": "gguf"}, timeout=30).json()))
    first.start()
    try:
        assert opened.wait(10)
        with srv.client() as other:
            busy = check_envelope(other.post("/v1/desktop/file-dialog", json={"purpose": "gguf"}), 409, "conflict")
        assert "already open" in busy["error"]["message"]
    finally:
        release.set()
        first.join(30)
    assert results == [{"object": "file_choice", "path": "/home/you/first.gguf"}]


@pytest.mark.parametrize("body", [{}, {"purpose": "secrets"}, {"purpose": "gguf", "path": "/etc/passwd"}])
def test_bad_requests_are_400s(site, body):
    site[0].ctx.file_dialogs.attach(lambda file_types: pytest.fail("the dialog must not open"))
    check_envelope(site[1].post("/v1/desktop/file-dialog", json=body), 400, "validation_error")


def test_only_an_admin_opens_the_dialog(site):
    srv, api = site
    srv.ctx.file_dialogs.attach(lambda file_types: pytest.fail("the dialog must not open"))
    tool = api.post("/v1/auth/tokens", json={"label": "another tool"}).json()["token"]
    with srv.client(tool) as them:
        assert them.get("/v1/desktop").status_code == 200
        check_envelope(them.post("/v1/desktop/file-dialog", json={"purpose": "gguf"}), 403, "admin_only")


@pytest.fixture
def file_manager(tmp_path, monkeypatch):
    """A stand-in ``xdg-open`` first on PATH (the system's file manager is outside the app): it writes
    the folder it was asked to show to a file."""
    bin_dir, shown = tmp_path / "bin", tmp_path / "shown.txt"
    bin_dir.mkdir()
    opener = bin_dir / "xdg-open"
    opener.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{shown}"\n')
    opener.chmod(opener.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return shown


@pytest.mark.skipif(os.name == "nt" or os.uname().sysname == "Darwin", reason="the stand-in is an xdg-open")
def test_the_window_shows_the_data_folder_its_backups_and_models(site, file_manager):
    srv, api = site
    srv.ctx.file_dialogs.attach(lambda file_types: None)
    assert api.get("/v1/desktop").json()["open_folder"] is True
    home = srv.ctx.config.home
    for folder, path in (("data", home), ("backups", home / "backups"), ("models", srv.ctx.config.models_dir)):
        r = api.post("/v1/desktop/open-folder", json={"folder": folder})
        assert r.status_code == 204, r.text
        assert path.is_dir()  # a folder not made yet is created, so the file manager has something to show
    wait_until(lambda: file_manager.exists() and len(file_manager.read_text().splitlines()) == 3, timeout=10,
               message="the file manager was not asked to show the three folders")
    assert file_manager.read_text().splitlines() == [str(home), str(home / "backups"), str(srv.ctx.config.models_dir)]


@pytest.mark.parametrize("body", [{}, {"folder": "/etc"}, {"folder": "data", "path": "/etc"}])
def test_open_folder_takes_only_the_apps_folders(site, body, file_manager):
    site[0].ctx.file_dialogs.attach(lambda file_types: None)
    check_envelope(site[1].post("/v1/desktop/open-folder", json=body), 400, "validation_error")
    assert not file_manager.exists()


def test_only_an_admin_opens_a_folder(site, file_manager):
    srv, api = site
    srv.ctx.file_dialogs.attach(lambda file_types: None)
    tool = api.post("/v1/auth/tokens", json={"label": "another tool"}).json()["token"]
    with srv.client(tool) as them:
        check_envelope(them.post("/v1/desktop/open-folder", json={"folder": "data"}), 403, "admin_only")
    assert not file_manager.exists()
