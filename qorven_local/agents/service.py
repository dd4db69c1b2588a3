"""Agents (Qors): create, edit, soft delete, look up by id or name."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Callable, Iterable

from qorven_local.agents.builtin import BUILTIN_AGENTS
from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import AdminOnly, Conflict, NotFound, ValidationError
from qorven_local.agents.types import DEFAULT_MAX_RECALL, Agent
from qorven_local.models import Page
from qorven_local.storage.agents import AgentStore
from qorven_local.storage.db import Database, IntegrityError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
NAME_RULE = ("The name must be 1 to 48 lowercase letters, digits, hyphens or underscores, starting with a letter "
             "or digit (for example research-helper).")


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ValidationError(NAME_RULE, param="name")
    return name


class AgentService:
    """The domain of agents; ``known_tools`` names the tools an agent may list, ``admin_tools`` the
    admin-permission ones, ``check_model(tenant, model id)`` refuses a model no provider offers.

    Only an admin puts an admin-permission tool on an agent (creating it, or adding the tool by
    editing it); the built-in agents are seeded with theirs. A user may still edit an agent that has
    one, and remove it, but not add it: so a run's admin-only tools were always granted by an admin,
    and a user token cannot reach through an agent what ``POST /v1/tools/{id}/invoke`` refuses it.
    """

    def __init__(self, db: Database, clock: Clock, ids: IdFactory,
                 known_tools: Callable[[str], Iterable[str]] | None = None,
                 admin_tools: Callable[[], Iterable[str]] | None = None,
                 check_model: Callable[[str, str], None] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.store = AgentStore(db)
        self._known_tools = known_tools
        self._admin_tools = admin_tools
        self._check_model = check_model

    def _builtin(self, spec: dict[str, Any], tenant_id: str, now: str) -> Agent:
        return Agent(
            id=self.ids.new("agt"), tenant_id=tenant_id, name=spec["name"],
            display_name=spec["display_name"], description=spec["description"],
            instructions=spec["instructions"], model=None, tools=list(spec["tools"]),
            memory_enabled=True, memory_auto_save=spec["memory_auto_save"], temperature=None,
            builtin=True, created_at=now, updated_at=now)

    def seed_builtins(self, conn: Any, tenant_id: str, now: str) -> None:
        """Insert the five built-in agents for a new tenant (inside the caller's transaction)."""
        for spec in BUILTIN_AGENTS:
            self.store.insert(conn, self._builtin(spec, tenant_id, now))

    def restore_builtins(self, tenant_id: str) -> tuple[list[Agent], list[str]]:
        """Bring back every built-in agent that is missing: (restored agents, names left as they are).

        A deleted built-in comes back as it was (same id, so its conversations and rooms find it again);
        one never seen is created afresh. A live agent holding the name, edited or not, is not touched.
        """
        restored: list[Agent] = []
        unchanged: list[str] = []
        with self.db.write() as conn:
            now = self.clock.iso()
            for spec in BUILTIN_AGENTS:
                if self.store.live_by_name(conn, tenant_id, spec["name"]) is not None:
                    unchanged.append(spec["name"])
                    continue
                deleted = self.store.last_deleted_builtin(conn, tenant_id, spec["name"])
                if deleted is not None:
                    agent = replace(deleted, deleted_at=None, updated_at=now)
                    self.store.update(conn, agent)
                else:
                    agent = self._builtin(spec, tenant_id, now)
                    self.store.insert(conn, agent)
                restored.append(agent)
        return restored, unchanged

    def _check_tools(self, tenant_id: str, tools: list[str]) -> list[str]:
        if len(set(tools)) != len(tools):
            raise ValidationError("tools must not repeat", param="tools")
        if self._known_tools is not None:
            known = set(self._known_tools(tenant_id))
            unknown = [t for t in tools if t not in known]
            if unknown:
                raise ValidationError(f"unknown tool(s): {', '.join(unknown)}", param="tools")
        return tools

    def _check_agent_model(self, tenant_id: str, model: str | None) -> None:
        """A model id must name a model a provider offers; None (the tenant's default) always may."""
        if model is not None and self._check_model is not None:
            self._check_model(tenant_id, model)

    def _check_grant(self, added: Iterable[str], by_admin: bool) -> None:
        """Refuse a non-admin caller adding admin-permission tools (403 ``admin_only``, param ``tools``)."""
        if by_admin or self._admin_tools is None:
            return
        refused = sorted(set(added) & set(self._admin_tools()))
        if refused:
            raise AdminOnly(f"only an admin token may give an agent the admin-only tool(s) {', '.join(refused)}",
                            param="tools")

    def create(self, tenant_id: str, fields: dict[str, Any], *, by_admin: bool) -> Agent:
        now = self.clock.iso()
        memory = fields.get("memory") or {}
        agent = Agent(
            id=self.ids.new("agt"), tenant_id=tenant_id, name=check_name(fields["name"]),
            display_name=fields.get("display_name") or fields["name"],
            description=fields.get("description", ""), instructions=fields.get("instructions", ""),
            model=fields.get("model"), tools=self._check_tools(tenant_id, list(fields.get("tools", []))),
            memory_enabled=memory.get("enabled", True), memory_auto_save=memory.get("auto_save", False),
            temperature=fields.get("temperature"), builtin=False, created_at=now, updated_at=now,
            memory_max_recall=memory.get("max_recall", DEFAULT_MAX_RECALL))
        self._check_grant(agent.tools, by_admin)
        self._check_agent_model(tenant_id, agent.model)
        try:
            with self.db.write() as conn:
                self.store.insert(conn, agent)
        except IntegrityError:
            raise Conflict(f"an agent named {agent.name!r} already exists", param="name") from None
        return agent

    def get(self, tenant_id: str, agent_id: str, include_deleted: bool = False) -> Agent:
        agent = self.store.get(tenant_id, agent_id, include_deleted)
        if agent is None:
            raise NotFound(f"agent {agent_id} not found")
        return agent

    def resolve(self, tenant_id: str, id_or_name: str) -> Agent | None:
        """A live agent by id or unique name (None if neither matches)."""
        if id_or_name.startswith("agt_"):
            return self.store.get(tenant_id, id_or_name)
        return self.store.get_by_name(tenant_id, id_or_name)

    def require(self, tenant_id: str, id_or_name: str, *, param: str) -> Agent:
        """A live agent by id or unique name; ``NotFound`` naming the request field ``param`` if none matches."""
        agent = self.resolve(tenant_id, id_or_name)
        if agent is None:
            raise NotFound(f"agent {id_or_name} not found", param=param)
        return agent

    def list_page(self, tenant_id: str, *, limit: int | None, cursor: str | None,
                  include_deleted: bool = False) -> Page:
        return self.store.page(tenant_id, limit=limit, cursor=cursor, include_deleted=include_deleted)

    def list_all(self, tenant_id: str) -> list[Agent]:
        return self.store.list_all(tenant_id)

    def update(self, tenant_id: str, agent_id: str, fields: dict[str, Any], *, by_admin: bool) -> Agent:
        with self.db.write() as conn:
            agent = self.get(tenant_id, agent_id)
            changes: dict[str, Any] = {}
            for key in ("display_name", "description", "instructions", "model", "temperature"):
                if key in fields:
                    changes[key] = fields[key]
            if "name" in fields:
                if agent.builtin and fields["name"] != agent.name:
                    raise Conflict("built-in agents keep their names", param="name")
                changes["name"] = check_name(fields["name"])
            if "model" in fields:
                self._check_agent_model(tenant_id, fields["model"])
            if "tools" in fields:
                changes["tools"] = self._check_tools(tenant_id, list(fields["tools"]))
                self._check_grant(set(changes["tools"]) - set(agent.tools), by_admin)
            memory = fields.get("memory") or {}
            if "enabled" in memory:
                changes["memory_enabled"] = memory["enabled"]
            if "auto_save" in memory:
                changes["memory_auto_save"] = memory["auto_save"]
            if "max_recall" in memory:
                changes["memory_max_recall"] = memory["max_recall"]
            if changes.get("display_name") is None and "display_name" in changes:
                changes["display_name"] = changes.get("name", agent.name)
            updated = replace(agent, **changes, updated_at=self.clock.iso())
            try:
                self.store.update(conn, updated)
            except IntegrityError:
                raise Conflict(f"an agent named {updated.name!r} already exists", param="name") from None
        return updated

    def delete(self, tenant_id: str, agent_id: str) -> Agent:
        """Soft delete: hidden from lists and chat; sessions and memories are kept."""
        with self.db.write() as conn:
            agent = self.get(tenant_id, agent_id)
            now = self.clock.iso()
            deleted = replace(agent, deleted_at=now, updated_at=now)
            self.store.update(conn, deleted)
        return deleted
