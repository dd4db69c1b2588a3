"""Qorven as an MCP server over streamable HTTP (/mcp), driven by the MCP SDK's own client."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.fakes import Reply
from tests.mcp.support import run_async

TOOLS = {"ask_agent", "memory_search", "memory_save", "list_agents", "search_documents"}


def with_session(url: str, token: str, body) -> Any:
    """Run ``body(session)`` inside an initialized SDK client session against ``url``."""
    async def main() -> Any:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            async with streamable_http_client(url, http_client=http) as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await body(session)
    return run_async(main)


def structured(result) -> dict:
    assert result.isError is False, result.content
    assert json.loads(result.content[0].text) == result.structuredContent
    return result.structuredContent


def test_without_a_token_is_the_401_envelope(server):
    r = httpx.post(server.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    with pytest.raises(BaseException) as refused:  # the SDK's client: its task group carries the HTTP error
        with_session(server.url + "/mcp", "qvn_not-a-token", lambda session: session.list_tools())
    cause = refused.value
    while isinstance(cause, BaseExceptionGroup):
        cause = cause.exceptions[0]
    assert isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code == 401


def test_the_sdk_client_lists_tools_saves_searches_and_asks_an_agent(server, fake):
    fake.enqueue(Reply.text("The capital of France is Paris."))

    async def body(session: ClientSession) -> dict:
        listed = await session.list_tools()
        saved = await session.call_tool("memory_save", {"content": "The user's cat is called Miso.",
                                                       "kind": "fact"})
        found = await session.call_tool("memory_search", {"query": "what is the cat called", "max_results": 3})
        agents = await session.call_tool("list_agents", {})
        answer = await session.call_tool("ask_agent", {"agent": "prime", "message": "Capital of France?"})
        return {"tools": listed.tools, "saved": saved, "found": found, "agents": agents, "answer": answer}

    out = with_session(server.url + "/mcp", server.admin_token, body)
    assert {t.name for t in out["tools"]} == TOOLS
    ask = next(t for t in out["tools"] if t.name == "ask_agent")
    assert ask.inputSchema["required"] == ["agent", "message"] and len(ask.description) > 80
    assert structured(out["saved"])["memory"]["content"] == "The user's cat is called Miso."
    assert structured(out["found"])["results"][0]["content"] == "The user's cat is called Miso."
    assert "prime" in {a["name"] for a in structured(out["agents"])["agents"]}
    answer = structured(out["answer"])
    assert answer["answer"] == "The capital of France is Paris." and answer["session_id"].startswith("ses_")
    # the run went through the agent loop to the fake upstream, and the session holds the exchange
    assert fake.chat_requests()[-1].body["messages"][-1]["content"] == "Capital of France?"
    with server.client() as api:
        messages = api.get("/v1/messages", params={"session_id": answer["session_id"]}).json()["data"]
    assert [m["content"] for m in messages][-2:] == ["Capital of France?", "The capital of France is Paris."]


def test_tool_errors_bad_arguments_and_a_user_token_cannot_save(server):
    user = server.ctx.tokens.issue("default", "user", label="mcp user")

    async def body(session: ClientSession) -> tuple:
        refused = await session.call_tool("memory_save", {"content": "nope"})
        unknown = await session.call_tool("ask_agent", {"agent": "nobody", "message": "hi"})
        invalid = await session.call_tool("memory_search", {"query": "x", "max_results": 500})
        return refused, unknown, invalid

    refused, unknown, invalid = with_session(server.url + "/mcp", user, body)
    assert refused.isError and "admin token" in refused.content[0].text
    assert unknown.isError and "no agent 'nobody'" in unknown.content[0].text
    assert invalid.isError and "max_results" in invalid.content[0].text


def test_transport_rules_sessions_versions_get_and_delete(server):
    headers = {"Authorization": f"Bearer {server.admin_token}", "Accept": "application/json, text/event-stream"}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        hello = http.post("/api/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
        assert hello.status_code == 200 and hello.json()["result"]["protocolVersion"] == "2025-03-26"
        sid = hello.headers["Mcp-Session-Id"]
        future = http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2099-01-01", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
        assert future.json()["result"]["protocolVersion"] == "2025-11-25"  # ours, the client may decline
        assert http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                         headers={"Mcp-Session-Id": sid}).status_code == 202
        assert http.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).status_code == 400
        bad_version = http.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
                                headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": "1999-01-01"})
        assert bad_version.status_code == 400 and bad_version.json()["error"]["code"] == "validation_error"
        unknown = http.post("/mcp", json={"jsonrpc": "2.0", "id": 3, "method": "resources/list"},
                            headers={"Mcp-Session-Id": sid})
        assert unknown.json()["error"]["code"] == -32601
        assert http.get("/mcp").status_code == 405
        assert http.delete("/mcp", headers={"Mcp-Session-Id": sid}).status_code == 204
        gone = http.post("/mcp", json={"jsonrpc": "2.0", "id": 4, "method": "ping"}, headers={"Mcp-Session-Id": sid})
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


def test_search_documents_answers_passages_of_uploaded_documents_with_citations(server):
    docless = server.ctx.tokens.issue("docless", "admin", label="a tenant without documents")
    empty = structured(with_session(server.url + "/mcp", docless,
                                    lambda session: session.call_tool("search_documents", {"query": "hotel"})))
    assert empty["results"] == [] and "No documents have been uploaded" in empty["note"]
    with server.client() as api:
        saved = api.post("/v1/memory/save", json={"content": "Hotel prices per night worry the user.",
                                                  "scope": "workspace"})
        assert saved.status_code == 201, saved.text
        doc = api.post("/v1/documents", json={"title": "Travel policy", "content": (
            "Hotel stays are capped at 180 euros per night.\n\nTrains are second class unless the trip is over "
            "four hours.")})
        assert doc.status_code == 201, doc.text

    found = structured(with_session(server.url + "/mcp", server.admin_token, lambda session: session.call_tool(
        "search_documents", {"query": "how much may a hotel cost per night", "max_results": 3})))
    assert "note" not in found and found["results"], found
    best = found["results"][0]
    assert "180 euros" in best["content"] and 0 < best["score"] <= 1
    assert best["document"]["id"] == doc.json()["id"] and best["document"]["title"] == "Travel policy"
    assert best["citation"] == f"Travel policy, {best['document']['locator']}" and best["document"]["locator"]
    # the saved memory matches the words too, but it is no document passage
    assert all(r.get("document") for r in found["results"])
    assert "Hotel prices per night worry the user." not in {r["content"] for r in found["results"]}


def test_a_user_token_is_not_offered_memory_save(server):
    user = server.ctx.tokens.issue("default", "user", label="mcp reader")
    listed = with_session(server.url + "/mcp", user, lambda session: session.list_tools())
    assert {t.name for t in listed.tools} == TOOLS - {"memory_save"}


def test_ask_agent_with_a_session_id_continues_that_conversation(server, fake):
    fake.enqueue(Reply.text("Noted: your locker is 42."), Reply.text("Your locker is 42."))

    async def body(session: ClientSession) -> tuple:
        first = await session.call_tool("ask_agent", {"agent": "prime", "message": "My locker number is 42."})
        again = await session.call_tool("ask_agent", {"agent": "prime", "message": "Which locker is mine?",
                                                      "session_id": first.structuredContent["session_id"]})
        wrong = await session.call_tool("ask_agent", {"agent": "writer", "message": "hi",
                                                      "session_id": first.structuredContent["session_id"]})
        return first, again, wrong

    first, again, wrong = with_session(server.url + "/mcp", server.admin_token, body)
    assert structured(again)["session_id"] == structured(first)["session_id"]
    assert structured(again)["answer"] == "Your locker is 42."
    history = [m["content"] for m in fake.chat_requests()[-1].body["messages"] if m["role"] != "system"]
    assert history[-3:] == ["My locker number is 42.", "Noted: your locker is 42.", "Which locker is mine?"]
    assert wrong.isError and "belongs to another agent" in wrong.content[0].text
