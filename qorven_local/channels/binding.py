"""The API objects of channel bindings and their deliveries."""

from __future__ import annotations

from typing import Any

from qorven_local.channels.types import Binding, ChannelJob


def binding_to_dict(binding: Binding, webhook_url: str, secret_names: tuple[str, ...]) -> dict[str, Any]:
    """The API's Binding object; ``secret_set`` is about the verifying secret (the first name)."""
    return {
        "id": binding.id, "object": "channel", "kind": binding.kind, "name": binding.name,
        "agent_id": binding.agent_id, "enabled": binding.enabled, "config": dict(binding.config),
        "secret_set": bool(secret_names) and secret_names[0] in binding.secrets_set,
        "secrets": {name: name in binding.secrets_set for name in secret_names},
        "routing": {"keywords": dict(binding.routing.get("keywords") or {}),
                    "default_agent_id": binding.routing.get("default_agent_id")},
        "webhook_url": webhook_url, "created_at": binding.created_at, "updated_at": binding.updated_at,
    }


def delivery_to_dict(job: ChannelJob) -> dict[str, Any]:
    """The API's delivery object: one accepted message and its reply's delivery state."""
    return {
        "id": job.id, "object": "channel.delivery", "binding_id": job.binding_id,
        "agent_id": job.agent_id, "session_id": job.session_id, "channel": job.channel,
        "event_id": job.inbound.get("event_id"), "sender": job.inbound.get("sender"),
        "status": job.status, "attempts": job.attempts, "message_id": job.message_id,
        "last_error": job.last_error, "created_at": job.created_at, "updated_at": job.updated_at,
        "delivered_at": job.delivered_at,
    }
