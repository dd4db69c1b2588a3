"""/v1/agents: thin resources over AgentService."""

from __future__ import annotations

import falcon

from qorven_local.agents.service import AgentService
from qorven_local.web import schemas
from qorven_local.web.io import page_args, page_body, principal, query_bool, read_body
from qorven_local.web.spec import PAGED, Param, operation

ADMIN_TOOLS = ("Only an admin token may put a tool with `permission: admin` on an agent (a user token adding one "
               "gets 403 `admin_only`, param `tools`); a user may keep or remove the ones an admin granted.")
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
               status=201, errors=("conflict", "admin_only"), description=ADMIN_TOOLS)
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        caller = principal(req)
        agent = self.agents.create(caller.tenant_id, read_body(req, schemas.AGENT_CREATE), by_admin=caller.is_admin)
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
               errors=("conflict", "admin_only"), description=ADMIN_TOOLS)
    def on_patch(self, req: falcon.Request, resp: falcon.Response, agent_id: str) -> None:
        caller = principal(req)
        agent = self.agents.update(caller.tenant_id, agent_id, read_body(req, schemas.AGENT_PATCH),
                                   by_admin=caller.is_admin)
        resp.media = agent.to_dict()

    @operation(summary="Soft-delete an agent (its sessions and memories are kept)", tag="agents",
               response=schemas.AGENT)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, agent_id: str) -> None:
        resp.media = self.agents.delete(principal(req).tenant_id, agent_id).to_dict()


RESTORED = {
    "type": "object", "required": ["object", "restored", "unchanged"],
    "properties": {
        "object": {"const": "agent.restore"},
        "restored": {"type": "array", "items": schemas.AGENT,
                     "description": "built-in agents brought back (a deleted one keeps its id and history)"},
        "unchanged": {"type": "array", "items": {"type": "string"},
                      "description": "names of built-ins that were there already, left exactly as they are"},
    },
}


class RestoreBuiltinsResource:
    """/v1/agents/restore-builtins: bring back missing or deleted built-in agents."""

    def __init__(self, agents: AgentService) -> None:
        self.agents = agents

    @operation(summary="Restore the built-in agents that are missing or deleted (edited ones are left alone)",
               tag="agents", response=RESTORED, body_required=False,
               description="A deleted built-in comes back as it was, with its id, so its conversations and rooms "
                           "find it again; a live agent with a built-in's name is never changed.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        restored, unchanged = self.agents.restore_builtins(principal(req).tenant_id)
        resp.media = {"object": "agent.restore", "restored": [a.to_dict() for a in restored], "unchanged": unchanged}
