"""Shared fixtures: real servers on ephemeral loopback ports with a real SQLite file per test."""

from __future__ import annotations

import os

import pytest

from tests.support.servers import InProcessServer, ServeProcess


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """No test ever touches the real user data dir: QORVEN_HOME points at a temp folder."""
    home = tmp_path_factory.mktemp("qorven-home")
    monkeypatch.setenv("QORVEN_HOME", str(home))
    for name in list(os.environ):
        if name.startswith("QORVEN_") and name != "QORVEN_HOME":
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def server(tmp_path):
    """A fresh in-process server (real waitress, real HTTP, temp data root)."""
    with InProcessServer(tmp_path / "home") as srv:
        yield srv


@pytest.fixture(scope="module")
def serve_process(tmp_path_factory):
    """One real ``qorven serve`` subprocess shared by a test module."""
    with ServeProcess(tmp_path_factory.mktemp("serve-home")) as proc:
        yield proc


@pytest.fixture
def admin(server):
    with server.client() as client:
        yield client
