import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from qorven_local.channels import discord
from qorven_local.errors import ChannelSendError
from qorven_local.errors import Unauthorized, ValidationError

NOW = 1_700_000_000.0


def public_hex(key):
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


def command(**overrides):
    interaction = {
        "id": "1180000000000000001", "application_id": "1170000000000000000", "type": 2,
        "token": "aW50ZXJhY3Rpb24tdG9rZW4", "version": 1, "guild_id": "1160000000000000000",
        "channel_id": "1150000000000000000",
        "member": {"user": {"id": "80351110224678912", "username": "nelly", "global_name": "Nelly",
                            "bot": False}},
        "data": {"id": "1", "name": "ask", "type": 1,
                 "options": [{"name": "prompt", "type": 3, "value": "summarise the thread"}]},
    }
    interaction.update(overrides)
    return json.dumps(interaction).encode()


def signed(key, body, ts=int(NOW)):
    return {"X-Signature-Timestamp": str(ts), "X-Signature-Ed25519": discord.sign(key, str(ts), body)}


def verify(body, headers, keys, now=NOW):
    discord.verify(body, headers, "/v1/webhooks/chn_1", keys, {}, now)


def test_a_request_signed_with_the_application_key_is_accepted(key):
    body = command()
    verify(body, signed(key, body), [public_hex(key)])


def test_other_key_tampered_body_stale_and_missing_headers_are_unauthorized(key):
    body = command()
    other = Ed25519PrivateKey.generate()
    with pytest.raises(Unauthorized):
        verify(body, signed(other, body), [public_hex(key)])
    with pytest.raises(Unauthorized):
        verify(body.replace(b"summarise", b"delete"), signed(key, body), [public_hex(key)])
    with pytest.raises(Unauthorized, match="window"):
        verify(body, signed(key, body, ts=int(NOW) - 301), [public_hex(key)])
    with pytest.raises(Unauthorized, match="X-Signature-Ed25519"):
        verify(body, {"X-Signature-Timestamp": str(int(NOW))}, [public_hex(key)])
    with pytest.raises(Unauthorized, match="not hex"):
        verify(body, {"X-Signature-Timestamp": str(int(NOW)), "X-Signature-Ed25519": "zz"}, [public_hex(key)])


def test_a_signature_over_another_timestamp_is_rejected(key):
    body = command()
    headers = signed(key, body)
    headers["X-Signature-Timestamp"] = str(int(NOW) + 1)
    with pytest.raises(Unauthorized):
        verify(body, headers, [public_hex(key)])


def test_old_and_new_public_keys_both_verify_during_rotation(key):
    old = Ed25519PrivateKey.generate()
    body = command()
    for signer in (key, old):
        verify(body, signed(signer, body), [public_hex(key), "not-a-key", public_hex(old)])


def test_ping_is_answered_with_pong():
    reply = discord.handshake("POST", {}, json.dumps({"type": 1, "id": "1"}).encode(), {}, {})
    assert json.loads(reply.body) == {"type": 1} and reply.content_type == "application/json"
    assert discord.handshake("POST", {}, command(), {}, {}) is None
    assert discord.parse(json.dumps({"type": 1, "id": "1"}).encode(), {}, "") is None


def test_a_slash_command_becomes_an_inbound_and_is_acked_with_a_deferral():
    inbound = discord.parse(command(), {}, "application/json")
    assert inbound.text == "summarise the thread" and inbound.sender == "80351110224678912"
    assert inbound.event_id == "1180000000000000001" and inbound.chat_id == "1150000000000000000"
    assert inbound.display_name == "Nelly" and not inbound.is_direct
    assert json.loads(discord.ack(inbound).body) == {"type": 5}


def test_a_dm_command_has_the_user_at_top_level():
    inbound = discord.parse(command(member=None, guild_id=None,
                                    user={"id": "5", "username": "solo"}), {}, "")
    assert inbound.sender == "5" and inbound.is_direct and inbound.display_name == "solo"


def test_bots_and_components_need_no_run_and_garbage_is_invalid():
    assert discord.parse(command(member={"user": {"id": "9", "username": "b", "bot": True}}), {}, "") is None
    assert discord.parse(command(type=3), {}, "") is None
    with pytest.raises(ValidationError):
        discord.parse(command(member=None), {}, "")
    with pytest.raises(ValidationError):
        discord.parse(b"[]", {}, "")


def test_send_posts_the_interaction_follow_up(fake_api, http):
    inbound = discord.parse(command(), {}, "")
    discord.send(http, {"api_base_url": fake_api.base_url}, "bot-token", inbound, "done")
    [request] = fake_api.requests
    assert request.path == "/webhooks/1170000000000000000/aW50ZXJhY3Rpb24tdG9rZW4"
    assert request.json()["content"] == "done" and "authorization" not in request.headers


def test_send_without_an_interaction_posts_to_the_channel_with_the_bot_token(fake_api, http):
    inbound = discord.parse(command(token=None), {}, "")
    discord.send(http, {"api_base_url": fake_api.base_url}, "bot-token", inbound, "done")
    [request] = fake_api.requests
    assert request.path == "/channels/1150000000000000000/messages"
    assert request.headers["authorization"] == "Bot bot-token"


def test_send_failure_raises_with_status(fake_api, http):
    fake_api.status = 404
    inbound = discord.parse(command(), {}, "")
    with pytest.raises(ChannelSendError, match="404") as err:
        discord.send(http, {"api_base_url": fake_api.base_url}, "bot-token", inbound, "done")
    assert "aW50ZXJhY3Rpb24tdG9rZW4" not in str(err.value)
