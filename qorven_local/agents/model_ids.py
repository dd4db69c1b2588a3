"""What a ``model`` string names: an agent (``qor:<name>`` or its bare name), a provider model
(``<provider>/<model>``) or the embedded embedding model; and the ``/v1/models`` list built from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qorven_local.agents.service import AgentService
from qorven_local.clock import parse_iso
from qorven_local.errors import ModelNotFound
from qorven_local.agents.types import Agent
from qorven_local.providers.local.starter import is_starter
from qorven_local.providers.registry import ProviderRegistry
from qorven_local.providers.resolution import ResolvedModel

AGENT_PREFIX = "qor:"
EMBEDDING_MODEL = "all-minilm-l6-v2"
EMBEDDING_CREATED = 1_614_556_800   # the model's public release (2021-03-01)


@dataclass(frozen=True)
class ChatTarget:
    """Who answers a chat request: an agent or a provider model (exactly one is set)."""

    agent: Agent | None = None
    model: ResolvedModel | None = None


def _unix(ts: str | None) -> int:
    try:
        return int(parse_iso(ts).timestamp()) if ts else 0
    except ValueError:
        return 0


class ModelDirectory:
    """Resolves model ids and lists them; agents come from AgentService, models from ProviderRegistry."""

    def __init__(self, agents: AgentService, providers: ProviderRegistry) -> None:
        self.agents = agents
        self.providers = providers

    def chat_target(self, tenant_id: str, model: str) -> ChatTarget:
        """The agent or provider model a chat request's ``model`` names; else ``model_not_found``."""
        if not isinstance(model, str) or not model:
            raise ModelNotFound("model is required", param="model")
        if model.startswith(AGENT_PREFIX):
            agent = self.agents.resolve(tenant_id, model[len(AGENT_PREFIX):])
            if agent is None:
                raise ModelNotFound(f"no agent named {model[len(AGENT_PREFIX):]!r}", param="model")
            return ChatTarget(agent=agent)
        if "/" not in model:
            agent = self.agents.resolve(tenant_id, model)
            if agent is not None:
                return ChatTarget(agent=agent)
        if model == EMBEDDING_MODEL:
            raise ModelNotFound(f"{model} is an embedding model; use POST /v1/embeddings", param="model")
        return ChatTarget(model=self.providers.resolve(tenant_id, model))

    def agent_model(self, agent: Agent) -> str | None:
        """The model an agent runs on: its own, else the tenant default (None: nothing configured)."""
        return agent.model or self.providers.default_model(agent.tenant_id)

    # -- /v1/models -----------------------------------------------------------------------------
    def list(self, tenant_id: str) -> list[dict[str, Any]]:
        """Selected provider models, then agents, then the embedding model, as OpenAI model objects."""
        default = self.providers.default_model(tenant_id)
        out = [{"id": s["id"], "object": "model", "created": _unix(s["created_at"]),
                "owned_by": s["provider"].name,
                "qorven": {"kind": "model", "provider_id": s["provider"].id, "default": s["id"] == default,
                           "context_length": s["context_length"],
                           "starter": s["provider"].kind == "local" and is_starter(s["model"])}}
               for s in self.providers.selected(tenant_id)]
        out += [self._agent_object(a) for a in self.agents.list_all(tenant_id)]
        out.append(self._embedding_object())
        return out

    def get(self, tenant_id: str, mid: str) -> dict[str, Any]:
        for item in self.list(tenant_id):
            if item["id"] == mid:
                return item
        if not mid.startswith(AGENT_PREFIX) and "/" not in mid:
            agent = self.agents.resolve(tenant_id, mid)
            if agent is not None:
                return self._agent_object(agent)
        raise ModelNotFound(f"model {mid!r} not found", param="model")

    @staticmethod
    def _agent_object(agent: Agent) -> dict[str, Any]:
        return {"id": AGENT_PREFIX + agent.name, "object": "model", "created": _unix(agent.created_at),
                "owned_by": "qorven", "qorven": {"kind": "agent", "agent_id": agent.id, "default": False,
                                                 "display_name": agent.display_name, "model": agent.model}}

    @staticmethod
    def _embedding_object() -> dict[str, Any]:
        return {"id": EMBEDDING_MODEL, "object": "model", "created": EMBEDDING_CREATED, "owned_by": "qorven",
                "qorven": {"kind": "embedding", "default": False, "dimensions": 384}}
