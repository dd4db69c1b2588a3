"""Conformance edges that tripped real clients (openai SDK, LangChain, curl, browsers)."""
