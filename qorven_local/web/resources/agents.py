"""/v1/agents: thin resources over AgentService."""

from __future__ import annotations

import falcon

from qorven_local.agents.service import AgentService
from qorven_local.web import schemas
from qorven_local.web.io import page_args, page_body, principal, query_bool, read_body
from qorven_local.web.spec import PAGED, Param, operation

INCLUDE_DELETED = Param("include_deleted", {"type": "boolean", "default": False}, "also show soft-deleted agents")


class AgentsResource:
    """/v1/agents: list and create."""

    def __init__(self, agents: AgentService) -> None:
        self.agents = agents

    @operation(summary="List agents", tag="agents", response=schemas.list_of(schemas.AGENT),
               query=PAGED + (INCLUDE_DELETED,))
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page = self.agents.list_page(principal(req).tenant_id, include_deleted=query_bool(req, "include_deleted"),
                                     **page_args(req))
        resp.media = page_body(page)

    @operation(summary="Create an agent", tag="agents", request=schemas.AGENT_CREATE, response=schemas.AGENT,
               status=201, errors=("conflict",))
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        agent = self.agents.create(principal(req).tenant_id, read_body(req, schemas.AGENT_CREATE))
        resp.status = 201
        resp.media = agent.to_dict()


class AgentResource:
    """/v1/agents/{agent_id}: read, update, delete one agent."""

    def __init__(self, agents: AgentService) -> None:
        self.agents = agents

    @operation(summary="Get an agent", tag="agents", response=schemas.AGENT, query=(INCLUDE_DELETED,))
    def on_get(self, req: falcon.Request, resp: falcon.Response, agent_id: str) -> None:
        agent = self.agents.get(principal(req).tenant_id, agent_id, query_bool(req, "include_deleted"))
        resp.media = agent.to_dict()

    @operation(summary="Edit an agent", tag="agents", request=schemas.AGENT_PATCH, response=schemas.AGENT,
               errors=("conflict",))
    def on_patch(self, req: falcon.Request, resp: falcon.Response, agent_id: str) -> None:
        agent = self.agents.update(principal(req).tenant_id, agent_id, read_body(req, schemas.AGENT_PATCH))
        resp.media = agent.to_dict()

    @operation(summary="Soft-delete an agent (its sessions and memories are kept)", tag="agents",
               response=schemas.AGENT)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, agent_id: str) -> None:
        resp.media = self.agents.delete(principal(req).tenant_id, agent_id).to_dict()
