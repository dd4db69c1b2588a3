"""LangChain's ``ChatOpenAI(use_responses_api=True)`` against a real ``qorven serve`` (the fake provider
upstream): plain, streamed, a bound tool's call coming back as ``tool_calls``, and a chained turn."""

from __future__ import annotations

import langchain_openai
import pytest
from langchain_core.messages import HumanMessage, ToolMessage

from tests.chat.test_openai_sdk import served  # noqa: F401  (fixture: a real serve with the fake upstream)
from tests.fakes import Reply


@pytest.fixture
def chat(served, fake):  # noqa: F811
    return langchain_openai.ChatOpenAI(model="fake/fake-model", base_url=served.url + "/v1",
                                       api_key=served.admin_token, use_responses_api=True, max_retries=0,
                                       timeout=20)


def test_invoke_and_stream(chat, fake):
    answer = chat.invoke("hello there")
    assert answer.text == "hello there" and answer.response_metadata["id"].startswith("resp_")
    assert fake.last_request.body["messages"] == [{"role": "user", "content": "hello there"}]

    fake.enqueue(Reply.text("streamed back to you"))
    pieces = [chunk.text for chunk in chat.stream("go")]
    assert "".join(pieces) == "streamed back to you" and len([p for p in pieces if p]) >= 2


def test_bound_tool_call_round_trip(chat, fake):
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return "sunny"

    with_tools = chat.bind_tools([get_weather])
    fake.enqueue(Reply.tool_calls([{"id": "call_lc1", "name": "get_weather", "arguments": {"city": "Lyon"}}]))
    asked = with_tools.invoke("weather in Lyon?")
    assert asked.tool_calls == [{"name": "get_weather", "args": {"city": "Lyon"}, "id": "call_lc1",
                                 "type": "tool_call"}]
    sent_tool = fake.last_request.body["tools"][0]
    assert sent_tool["type"] == "function" and sent_tool["function"]["name"] == "get_weather"

    fake.enqueue(Reply.text("Sunny in Lyon"))
    done = with_tools.invoke([HumanMessage("weather in Lyon?"), asked,
                              ToolMessage("sunny", tool_call_id="call_lc1")])
    assert done.text == "Sunny in Lyon"
    sent = fake.last_request.body["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == "call_lc1" and sent[-1] == {
        "role": "tool", "tool_call_id": "call_lc1", "content": "sunny"}


def test_previous_response_id_through_langchain(chat, fake):
    first = chat.invoke("my name is Ada")
    fake.enqueue(Reply.text("You are Ada"))
    second = chat.invoke("who am I?", previous_response_id=first.response_metadata["id"])
    assert second.text == "You are Ada"
    assert [m["content"] for m in fake.last_request.body["messages"]] == ["my name is Ada", "my name is Ada",
                                                                          "who am I?"]
