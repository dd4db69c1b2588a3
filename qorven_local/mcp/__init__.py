"""The Model Context Protocol both ways: Qorven's agents and memory as MCP tools for other apps
(``server.py``, ``qorven_tools.py``, ``definitions.py``), and other apps' MCP tools for Qorven's agents
(``service.py``, ``connections.py``)."""
