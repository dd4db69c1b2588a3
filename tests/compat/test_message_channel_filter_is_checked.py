"""``GET /v1/messages?channel=`` refuses a channel that does not exist (it silently answered an empty
list), and still filters by a real one."""

from __future__ import annotations

import httpx

from tests.support.envelope import check_envelope


def test_an_unknown_channel_filter_is_400_naming_channel(admin: httpx.Client):
    session = admin.post("/v1/sessions", json={"agent_id": "prime", "channel": "api"}).json()
    for bad in ("pigeon", "WEB", "room2"):
        check_envelope(admin.get("/v1/messages", params={"session_id": session["id"], "channel": bad}),
                       400, "validation_error", "channel")
    for good in ("api", "web", "telegram"):
        answer = admin.get("/v1/messages", params={"session_id": session["id"], "channel": good})
        assert answer.status_code == 200, answer.text
        assert answer.json()["object"] == "list"
        assert all(m["channel"] == good for m in answer.json()["data"])
