"""LangChain's ChatOpenAI drives an agent (qor:<name>) like any OpenAI model: its options reach the upstream,
a bound tool's call comes back as an AIMessage tool call, and the ToolMessage follow-up completes."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from tests.compat.agents_as_models import AGENT, served  # noqa: F401
from tests.fakes import Reply


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def test_langchain_tool_round_trip_through_an_agent(served, fake):
    model = ChatOpenAI(model=AGENT, base_url=served.url + "/v1", api_key=served.admin_token, temperature=0.4,
                       max_tokens=33, seed=5, max_retries=0, timeout=20).bind_tools([get_weather])
    fake.enqueue(Reply.tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}, "id": "call_lc"}]))
    asked = [HumanMessage("weather in Oslo?")]
    reply = model.invoke(asked)
    assert reply.tool_calls == [{"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_lc",
                                 "type": "tool_call"}]
    sent = fake.last_request.body
    assert (sent["temperature"], sent["max_tokens"], sent["seed"]) == (0.4, 33, 5)
    assert [t["function"]["name"] for t in sent["tools"]] == ["current_time", "get_weather"]

    fake.enqueue(Reply.text("Sunny in Oslo"))
    answer = model.invoke(asked + [reply, ToolMessage("sunny", tool_call_id="call_lc")])
    assert answer.content == "Sunny in Oslo"
    assert fake.last_request.body["messages"][-1] == {"role": "tool", "tool_call_id": "call_lc", "content": "sunny"}


def test_langchain_streams_a_tool_call_from_an_agent(served, fake):
    model = ChatOpenAI(model=AGENT, base_url=served.url + "/v1", api_key=served.admin_token, max_retries=0,
                       timeout=20, streaming=True).bind_tools([get_weather])
    fake.enqueue(Reply.tool_calls([{"name": "get_weather", "arguments": {"city": "Rome"}, "id": "call_ls"}]))
    merged = None
    for piece in model.stream([HumanMessage("weather in Rome?")]):
        merged = piece if merged is None else merged + piece
    assert merged is not None and merged.tool_calls == [
        {"name": "get_weather", "args": {"city": "Rome"}, "id": "call_ls", "type": "tool_call"}]
    assert merged.response_metadata.get("finish_reason") == "tool_calls"
