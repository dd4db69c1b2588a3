"""Fakes for tests: real servers standing in for the outside world.

Exports are resolved lazily so ``python -m tests.fakes.fake_provider`` does not import the module
twice (once through this package, once as ``__main__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.fake_provider import FakeProvider, RecordedRequest, Reply

__all__ = ["FakeProvider", "RecordedRequest", "Reply"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tests.fakes import fake_provider
        return getattr(fake_provider, name)
    raise AttributeError(f"module 'tests.fakes' has no attribute {name!r}")
