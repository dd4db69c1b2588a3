"""A binding's secrets never follow its config to another host (API.md "Channels").

Changing where a binding sends (``api_base_url``, the generic webhook's ``reply_url``) to another
scheme, host or port clears its secrets, as a provider's key is cleared when its base URL moves;
``secret_set`` then reads false and the new host never sees the old bot token.
"""

from __future__ import annotations

from tests.channels_api.conftest import SECRET, make_binding, settled, sign_telegram, sign_webhook
from tests.support.fake_channel_api import running_fake_channel_api
from tests.support.upstream import configure_upstream

BOT_TOKEN = "123456:bot-token-must-stay-home-0123456789"


def _secrets(admin, binding_id: str) -> tuple[bool, dict[str, bool]]:
    body = admin.get(f"/v1/channels/{binding_id}").json()
    return body["secret_set"], body["secrets"]


def test_moving_api_base_url_to_another_host_clears_the_bot_token(admin, server, fake):
    configure_upstream(admin, fake)
    with running_fake_channel_api() as home, running_fake_channel_api() as elsewhere:
        binding = make_binding(admin, "telegram", config={"api_base_url": home.base_url})
        assert admin.put(f"/v1/channels/{binding['id']}/secret",
                         json={"name": "bot_token", "secret": BOT_TOKEN}).status_code == 200

        moved = admin.patch(f"/v1/channels/{binding['id']}", json={"config": {"api_base_url": elsewhere.base_url}})
        assert moved.status_code == 200, moved.text
        assert moved.json()["secret_set"] is False
        assert moved.json()["secrets"] == {"secret_token": False, "bot_token": False}
        assert _secrets(admin, binding["id"]) == (False, {"secret_token": False, "bot_token": False})

        # Re-arm only the verifying secret: the message runs, but nothing carries the old token anywhere.
        assert admin.put(f"/v1/channels/{binding['id']}/secret", json={"secret": SECRET}).status_code == 200
        assert sign_telegram(binding).post(admin, binding["id"]).status_code == 200
        settled(admin, binding["id"])
        assert elsewhere.requests == [] and home.requests == []


def test_a_new_path_on_the_same_origin_keeps_the_secrets(admin):
    with running_fake_channel_api() as home:
        binding = make_binding(admin, "telegram", config={"api_base_url": home.base_url})
        admin.put(f"/v1/channels/{binding['id']}/secret", json={"name": "bot_token", "secret": BOT_TOKEN})
        same = admin.patch(f"/v1/channels/{binding['id']}",
                           json={"config": {"api_base_url": home.base_url + "/relay/"}, "name": "renamed"})
        assert same.status_code == 200, same.text
        assert same.json()["secrets"] == {"secret_token": True, "bot_token": True}


def test_moving_the_generic_webhooks_reply_url_clears_its_signing_secret(admin, server, fake):
    configure_upstream(admin, fake)
    with running_fake_channel_api() as home, running_fake_channel_api() as elsewhere:
        binding = make_binding(admin, "webhook", config={"reply_url": home.base_url + "/reply"})
        moved = admin.patch(f"/v1/channels/{binding['id']}", json={"config": {"reply_url": elsewhere.base_url + "/reply"}})
        assert moved.status_code == 200, moved.text
        assert moved.json()["secret_set"] is False
        # The old secret neither verifies a delivery nor signs a reply to the new host.
        response = sign_webhook(binding).post(admin, binding["id"])
        assert response.status_code == 401, response.text
        assert elsewhere.requests == []


def test_moving_api_base_url_back_to_the_default_api_also_clears(admin):
    with running_fake_channel_api() as home:
        binding = make_binding(admin, "slack", config={"api_base_url": home.base_url})
        moved = admin.patch(f"/v1/channels/{binding['id']}", json={"config": {}})
        assert moved.status_code == 200 and moved.json()["secret_set"] is False
