"""The README's ready-to-paste configurations for apps that launch ``qorven mcp``, pasted: each JSON
block of its MCP section, with ``/path/to/qorven`` replaced by the ``qorven`` command ``make run``
installs, launched the way such an app does (the SDK's stdio client, only the config's env added)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.mcp.support import run_async
from tests.support.servers import REPO

QORVEN = Path(sys.executable).with_name("qorven")   # .venv/bin/qorven, the project's console script


def readme_configs() -> dict[str, dict]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## MCP (Model Context Protocol), both ways"):text.index("## The one-file executable")]
    configs = {}
    for block in re.findall(r"```json\n(.*?)```", section, re.S):
        data = json.loads(block)
        key = "mcpServers" if "mcpServers" in data else "servers"
        configs[f"{key}:{len(configs)}"] = data[key]["qorven"]
    return configs


def test_the_readme_has_a_desktop_assistant_and_ide_configs():
    configs = readme_configs()
    assert len(configs) == 3
    for config in configs.values():
        assert config["command"] == "/path/to/qorven" and config["args"] == ["mcp"]
        assert config.get("type", "stdio") == "stdio"


@pytest.mark.skipif(not QORVEN.exists(), reason="the qorven console script is not installed in this venv")
@pytest.mark.parametrize("name", sorted(readme_configs()))
def test_each_config_pasted_lists_the_tools_and_answers(server, name):
    config = readme_configs()[name]
    env = dict(config.get("env") or {})
    # what the placeholders stand for here; without them, the local install is found by its data root
    env = {k: {"QORVEN_SERVER": server.url, "QORVEN_TOKEN": server.admin_token}.get(k, v) for k, v in env.items()}
    env.setdefault("QORVEN_SERVER", server.url)
    env.update(QORVEN_HOME=str(server.home), PYTHONPATH=str(REPO))  # this checkout's code, not an installed one
    params = StdioServerParameters(command=str(QORVEN), args=config["args"], env=env)

    async def main() -> tuple:
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await session.list_tools(), await session.call_tool("list_agents", {})

    tools, agents = run_async(main)
    assert "ask_agent" in {t.name for t in tools.tools}
    assert agents.isError is False and "prime" in {a["name"] for a in agents.structuredContent["agents"]}
