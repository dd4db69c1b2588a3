"""A captured webhook delivery re-sent with a new (unsigned) event id header is a repeat: it runs nothing.

The generic webhook's ``X-Qorven-Event-Id`` and GitHub's ``X-GitHub-Delivery`` are not covered by the
signature, so anyone who saw one delivery could re-send it under a fresh id within the replay window
(GitHub has no window at all). De-duplication also keys on a digest of the signed bytes.
"""

from __future__ import annotations

import time
import uuid

import httpx

from tests.channels_api.conftest import count, make_binding, settled, sign_github, sign_webhook
from tests.fakes import FakeProvider
from tests.support.fake_channel_api import running_fake_channel_api
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream


def _runs(server: InProcessServer) -> int:
    """Agent runs so far: each stores the channel's message as one user message."""
    return count(server, "messages WHERE role = 'user'")


def _replayed(admin: httpx.Client, server: InProcessServer, fake: FakeProvider, binding: dict, delivery,
              id_header: str) -> None:
    """Post ``delivery``, let it run, then re-send it under a new id: 200, and still one job and one run."""
    first = delivery.post(admin, binding["id"])
    assert first.status_code == 200, first.text
    settled(admin, binding["id"])
    assert _runs(server) == 1
    model_calls = len(fake.chat_requests())

    delivery.headers[id_header] = str(uuid.uuid4())
    again = delivery.post(admin, binding["id"])
    assert again.status_code == 200, again.text
    assert again.json() == first.json()  # the kind's ack, as for any repeat
    assert count(server, "channel_jobs WHERE binding_id = ?", binding["id"]) == 1
    settled(admin, binding["id"])
    assert _runs(server) == 1 and len(fake.chat_requests()) == model_calls


def test_a_generic_webhook_resent_with_a_new_event_id_is_not_run_again(admin, server, fake):
    configure_upstream(admin, fake)
    binding = make_binding(admin, "webhook")
    _replayed(admin, server, fake, binding, sign_webhook(binding), "X-Qorven-Event-Id")


def test_a_github_delivery_resent_with_a_new_delivery_id_is_not_run_again(admin, server, fake):
    configure_upstream(admin, fake)
    with running_fake_channel_api() as github:
        binding = make_binding(admin, "github", config={"api_base_url": github.base_url})
        admin.put(f"/v1/channels/{binding['id']}/secret", json={"name": "token", "secret": "ghp_test_0123456789"})
        _replayed(admin, server, fake, binding, sign_github(binding), "X-GitHub-Delivery")


def test_a_new_delivery_with_the_same_text_at_another_time_still_runs(admin, server, fake):
    """The digest covers the signed timestamp, so the same message sent again later is a new one."""
    configure_upstream(admin, fake)
    binding = make_binding(admin, "webhook")
    now = time.time()
    for ts in (now - 10, now):
        assert sign_webhook(binding, ts=ts).post(admin, binding["id"]).status_code == 200
    assert count(server, "channel_jobs WHERE binding_id = ?", binding["id"]) == 2
