"""Escape attempts through POST /v1/tools/{id}/invoke: each a clean ok=false, nothing outside touched."""

from __future__ import annotations

import os

import pytest

from tests.tools_api.stack import LocalSite, agent_stack


def invoke(api, tool, arguments):
    r = api.post(f"/v1/tools/{tool}/invoke", json={"arguments": arguments})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def outside(server, tmp_path):
    """A folder beside the data root with a secret in it, and a symlink to it inside the workspace."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("do not read")
    workspace = server.ctx.config.workspace_dir / "default"  # the admin tenant's folder
    link = workspace / "escape"
    if link.is_symlink():
        link.unlink()
    os.symlink(folder, link)
    yield folder
    link.unlink()


@pytest.mark.parametrize("tool, arguments", [
    ("read_file", {"path": "../../etc/passwd"}),
    ("read_file", {"path": "../qorven.db"}),
    ("read_file", {"path": "/etc/passwd"}),
    ("list_files", {"path": "/"}),
    ("list_files", {"path": ".."}),
    ("write_file", {"path": "../planted.txt", "content": "x"}),
    ("write_file", {"path": "/tmp/planted-by-qorven.txt", "content": "x"}),
])
def test_paths_outside_the_workspace_are_refused(api, server, tool, arguments):
    result = invoke(api, tool, arguments)
    assert result["ok"] is False and result["error"]["code"] == "path_not_allowed", result
    assert not (server.home / "planted.txt").exists()
    assert not os.path.exists("/tmp/planted-by-qorven.txt")


def test_symlinks_out_of_the_workspace_are_refused(api, outside):
    for tool, arguments in [("read_file", {"path": "escape/secret.txt"}), ("list_files", {"path": "escape"}),
                            ("write_file", {"path": "escape/planted.txt", "content": "x"}),
                            ("write_file", {"path": "escape/secret.txt", "content": "overwritten"})]:
        result = invoke(api, tool, arguments)
        assert result["ok"] is False and result["error"]["code"] == "path_not_allowed", (tool, result)
        assert "do not read" not in str(result)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "do not read"


@pytest.fixture
def site():
    s = LocalSite()
    yield s
    s.close()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/page", "http://localhost:{port}/page", "http://[::1]:{port}/page",
    "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://2130706433:{port}/page",
])
def test_http_get_refuses_private_targets(api, site, url):
    result = invoke(api, "http_get", {"url": url.format(port=site.port)})
    assert result["ok"] is False and result["error"]["code"] == "url_blocked", result
    assert site.hits == []


def test_http_get_refuses_a_redirect_to_loopback(tmp_path):
    """The first host is allowed by setting; its redirect to another loopback port is refused at that hop."""
    front, hidden = LocalSite(), LocalSite()
    try:
        settings = {"http_allowed_hosts": f"127.0.0.1:{front.port}"}
        with agent_stack(tmp_path / "home", settings) as (server, _), server.client() as api:
            assert invoke(api, "http_get", {"url": front.url("/page")})["ok"] is True
            result = invoke(api, "http_get", {"url": front.url(f"/redirect?to={hidden.url('/page')}")})
            assert result["ok"] is False and result["error"]["code"] == "url_blocked", result
        assert hidden.hits == [] and front.hits[-1].startswith("/redirect")
    finally:
        front.close()
        hidden.close()


def test_http_get_reaches_private_hosts_only_when_allowed(tmp_path, site):
    with agent_stack(tmp_path / "home", {"http_allow_private": "true"}) as (server, _), server.client() as api:
        result = invoke(api, "http_get", {"url": site.url("/page")})
    assert result["ok"] is True and "Hello from the site" in str(result["result"])
    assert site.hits == ["/page"]
