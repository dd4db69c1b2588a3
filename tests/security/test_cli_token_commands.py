"""``qorven auth list-tokens`` and ``qorven auth revoke-token ID`` on the local data root, beside a running server."""

from __future__ import annotations

import json
import subprocess
import sys


def qorven(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qorven_local.cli.main", *args], capture_output=True, text=True,
                          timeout=60)


def test_cli_lists_tokens_and_revokes_one_the_server_then_refuses(server, admin):
    user = server.ctx.tokens.issue("default", "user", label="cli-made")
    home = str(server.home)

    table = qorven("auth", "list-tokens", "--home", home)
    assert table.returncode == 0, table.stderr
    assert "cli-made" in table.stdout and "first admin" in table.stdout
    assert user not in table.stdout and server.admin_token not in table.stdout

    listed = json.loads(qorven("auth", "list-tokens", "--json", "--home", home).stdout)
    token_id = next(t["id"] for t in listed if t["label"] == "cli-made")

    done = qorven("auth", "revoke-token", token_id, "--home", home)
    assert done.returncode == 0, done.stderr
    assert token_id in done.stdout
    assert admin.get("/v1/agents", headers={"Authorization": f"Bearer {user}"}).status_code == 401
    assert admin.get("/v1/agents").status_code == 200

    missing = qorven("auth", "revoke-token", "tok_missing", "--home", home)
    assert missing.returncode != 0 and "tok_missing" in missing.stderr
