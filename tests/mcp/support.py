"""Helpers the MCP tests share."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable

import anyio


def run_async(main: Callable[[], Awaitable[Any]]) -> Any:
    """Run an SDK client coroutine on a thread of its own: a Playwright test earlier in the session
    leaves its event loop running on the main thread, where ``anyio.run`` would refuse to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, main).result()
