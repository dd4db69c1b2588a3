"""Shared fixtures: a real ToolContext over a tmp workspace and the registry of built-ins."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from qorven_local.tools.context import ToolContext, ToolSettings
from qorven_local.tools.builtin import default_registry

FIXED_NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=timezone.utc)  # a Saturday


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def make_ctx(workspace: Path):
    """Build a context; keyword arguments override ToolContext fields or, with settings=dict, limits."""
    def make(settings: dict | None = None, **fields) -> ToolContext:
        ctx = ToolContext(tenant_id="default", workspace_dir=workspace, agent_id="agt_1",
                          agent_name="prime", session_id="ses_1", clock=lambda: FIXED_NOW)
        if settings:
            ctx.settings = replace(ToolSettings(), **settings)
        return replace(ctx, **fields)
    return make


@pytest.fixture
def ctx(make_ctx) -> ToolContext:
    return make_ctx()


@pytest.fixture(scope="session")
def registry():
    return default_registry()
