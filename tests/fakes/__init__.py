"""Fakes for tests: real servers standing in for the outside world."""

from tests.fakes.fake_provider import FakeProvider, RecordedRequest, Reply

__all__ = ["FakeProvider", "RecordedRequest", "Reply"]
