"""Tools agents can call: ``registry`` (Tool, ToolRegistry), ``context`` (ToolContext and the service
Protocols), ``schema`` (signature → JSON Schema), ``builtin/`` (the built-in tools, ``default_registry``)."""
