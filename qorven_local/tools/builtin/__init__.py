"""The built-in tools, one module each; ``default_registry()`` registers all of them.

The package attributes stay the modules (``builtin.http_get`` is the module, its tool is
``builtin.http_get.http_get``), so patching a module in tests reaches the code the tool runs.
"""

from qorven_local.tools.builtin import (calculator, current_time, delegate, http_get, list_files,
                                        memory_save, memory_search, read_file, write_file)
from qorven_local.tools.registry import ToolRegistry

BUILTIN_TOOLS = (current_time.current_time, calculator.calculator, memory_search.memory_search,
                 memory_save.memory_save, delegate.delegate, list_files.list_files,
                 read_file.read_file, write_file.write_file, http_get.http_get)


def default_registry() -> ToolRegistry:
    """A registry holding every built-in tool."""
    return ToolRegistry(BUILTIN_TOOLS)


__all__ = ["BUILTIN_TOOLS", "default_registry"]
