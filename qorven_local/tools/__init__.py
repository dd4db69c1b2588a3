"""Tools agents can call: ``registry`` (Tool, ToolRegistry, default_registry), ``context``
(ToolContext and the service Protocols), ``schema`` (signature → JSON Schema), ``builtin/``."""
