"""The built-in tools, one module each; ``default_registry()`` registers all of them."""

from qorven_local.tools.builtin.calculator import calculator
from qorven_local.tools.builtin.current_time import current_time
from qorven_local.tools.builtin.delegate import delegate
from qorven_local.tools.builtin.http_get import http_get
from qorven_local.tools.builtin.list_files import list_files
from qorven_local.tools.builtin.memory_save import memory_save
from qorven_local.tools.builtin.memory_search import memory_search
from qorven_local.tools.builtin.read_file import read_file
from qorven_local.tools.builtin.write_file import write_file

BUILTIN_TOOLS = (current_time, calculator, memory_search, memory_save, delegate,
                 list_files, read_file, write_file, http_get)

__all__ = ["BUILTIN_TOOLS"]
