"""``POST /v1/responses`` through the official ``openai`` SDK against a real ``qorven serve``, the fake
provider upstream: plain, streamed, chained with previous_response_id, a function-tool round trip, on a
provider model and on an agent; every raw answer and stream event checked against OpenAI's schemas."""

from __future__ import annotations

import json

import openai
import pytest

from tests.chat.conftest import sse_events
from tests.chat.test_openai_sdk import client, raw, served  # noqa: F401  (fixtures: a real serve, the SDK)
from tests.fakes import Reply
from tests.support.openai_schemas import validate_openai
from tests.web.test_core_api_e2e import other_tenant_token

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather of a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def stream_events(raw, body: dict) -> list[dict]:
    """The typed events of a streamed response, each validated against ResponseStreamEvent."""
    with raw.stream("POST", "/v1/responses", json={**body, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [(name, json.loads(data)) for name, data in sse_events(r.iter_lines()) if name != "comment"]
    for name, event in events:
        assert name == event["type"]
        validate_openai("ResponseStreamEvent", event)
    assert [e["sequence_number"] for _, e in events] == list(range(len(events)))
    return [e for _, e in events]


def test_plain_response_with_a_provider_model(client, raw, fake):
    answer = client.responses.create(model="fake/fake-model", input="hi there", instructions="Be brief.",
                                     temperature=0.2, max_output_tokens=50)
    assert answer.output_text == "hi there" and answer.status == "completed" and answer.id.startswith("resp_")
    assert answer.usage.total_tokens == answer.usage.input_tokens + answer.usage.output_tokens
    sent = fake.last_request.body
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi there"}]
    assert sent["model"] == "fake-model" and sent["temperature"] == 0.2 and sent["max_tokens"] == 50

    body = raw.post("/v1/responses", json={"model": "fake/fake-model", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "from "}, {"type": "input_text", "text": "parts"}]}]})
    assert body.status_code == 200
    validate_openai("Response", body.json())
    assert fake.last_request.body["messages"] == [{"role": "user", "content": "from parts"}]


def test_streamed_response_events_in_order(client, raw, fake):
    with client.responses.stream(model="fake/fake-model", input="one two three") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "one two three" and final.output_text == "one two three"

    events = stream_events(raw, {"model": "fake/fake-model", "input": "a b"})
    kinds = [e["type"] for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "a b"
    # the streamed answer is stored as the plain one is
    assert raw.get(f"/v1/responses/{events[0]['response']['id']}").json()["output"] == events[-1]["response"]["output"]


def test_previous_response_id_continues_the_conversation(client, fake):
    first = client.responses.create(model="fake/fake-model", input="my name is Ada", instructions="Old rules.")
    fake.enqueue(Reply.text("You are Ada"))
    second = client.responses.create(model="fake/fake-model", input="who am I?", previous_response_id=first.id,
                                     instructions="New rules.")
    assert second.output_text == "You are Ada" and second.previous_response_id == first.id
    assert fake.last_request.body["messages"] == [
        {"role": "system", "content": "New rules."},  # instructions are not carried over
        {"role": "user", "content": "my name is Ada"}, {"role": "assistant", "content": "my name is Ada"},
        {"role": "user", "content": "who am I?"}]


def test_retrieve_delete_and_tenancy(client, served, fake):
    made = client.responses.create(model="fake/fake-model", input="keep me")
    assert client.responses.retrieve(made.id).output_text == "keep me"
    other = openai.OpenAI(base_url=served.url + "/v1", api_key=other_tenant_token(served), max_retries=0)
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(made.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.create(model="fake/fake-model", input="x", previous_response_id=made.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(made.id)
    client.responses.delete(made.id)
    with pytest.raises(openai.NotFoundError) as gone:
        client.responses.retrieve(made.id)
    assert gone.value.code == "not_found"


def test_function_tool_round_trip(client, fake):
    fake.enqueue(Reply.tool_calls([{"id": "call_w1", "name": "get_weather", "arguments": {"city": "Paris"}}]))
    asked = client.responses.create(model="fake/fake-model", input="weather in Paris?", tools=[WEATHER])
    call = asked.output[0]
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id == "call_w1"
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert fake.last_request.body["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather of a city", "parameters": WEATHER["parameters"]}}]

    fake.enqueue(Reply.text("It is sunny in Paris"))
    done = client.responses.create(model="fake/fake-model", previous_response_id=asked.id, tools=[WEATHER],
                                   input=[{"type": "function_call_output", "call_id": "call_w1", "output": "sunny"}])
    assert done.output_text == "It is sunny in Paris"
    sent = fake.last_request.body["messages"]
    assert sent[-2]["role"] == "assistant" and sent[-2]["tool_calls"][0]["id"] == "call_w1"
    assert sent[-1] == {"role": "tool", "tool_call_id": "call_w1", "content": "sunny"}


def test_an_agents_client_function_tool_round_trip(client, fake):
    """An agent offered the client's function tool returns its call, then answers from the output."""
    fake.enqueue(Reply.tool_calls([{"id": "call_a1", "name": "get_weather", "arguments": {"city": "Lima"}}]))
    asked = client.responses.create(model="qor:writer", input="weather in Lima?", tools=[WEATHER])
    call = next(item for item in asked.output if item.type == "function_call")
    assert call.name == "get_weather" and call.call_id == "call_a1" and json.loads(call.arguments) == {"city": "Lima"}
    assert "get_weather" in [t["function"]["name"] for t in fake.last_request.body["tools"]]

    fake.enqueue(Reply.text("Lima is cloudy"))
    done = client.responses.create(model="qor:writer", previous_response_id=asked.id, tools=[WEATHER],
                                   input=[{"type": "function_call_output", "call_id": "call_a1", "output": "cloudy"}])
    assert done.output_text == "Lima is cloudy"
    assert fake.last_request.body["messages"][-1] == {"role": "tool", "tool_call_id": "call_a1", "content": "cloudy"}

    fake.enqueue(Reply.tool_calls([{"id": "call_a2", "name": "get_weather", "arguments": {"city": "Quito"}}]))
    with client.responses.stream(model="qor:writer", input="weather in Quito?", tools=[WEATHER]) as stream:
        final = stream.get_final_response()
    streamed = next(item for item in final.output if item.type == "function_call")
    assert streamed.call_id == "call_a2" and json.loads(streamed.arguments) == {"city": "Quito"}


def test_streamed_function_call(client, raw, fake):
    fake.enqueue(Reply.tool_calls([{"id": "call_s1", "name": "get_weather", "arguments": {"city": "Oslo"}}],
                                  arg_chunks=3))
    events = stream_events(raw, {"model": "fake/fake-model", "input": "weather?", "tools": [WEATHER]})
    deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert len(deltas) == 3 and json.loads("".join(deltas)) == {"city": "Oslo"}
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert done["name"] == "get_weather" and json.loads(done["arguments"]) == {"city": "Oslo"}

    fake.enqueue(Reply.tool_calls([{"id": "call_s2", "name": "get_weather", "arguments": {"city": "Rome"}}]))
    with client.responses.stream(model="fake/fake-model", input="weather?", tools=[WEATHER]) as stream:
        final = stream.get_final_response()
    assert final.output[0].type == "function_call" and final.output[0].call_id == "call_s2"


def test_text_format_becomes_response_format(client, fake):
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    fake.enqueue(Reply.text('{"n": 3}'))
    answer = client.responses.create(model="fake/fake-model", input="a number", text={"format": {
        "type": "json_schema", "name": "number", "schema": schema, "strict": True}})
    assert json.loads(answer.output_text) == {"n": 3}
    assert fake.last_request.body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "number", "schema": schema, "strict": True}}
    client.responses.create(model="fake/fake-model", input="json", text={"format": {"type": "json_object"}})
    assert fake.last_request.body["response_format"] == {"type": "json_object"}


def test_an_agent_answers_plain_streamed_and_chained(client, raw, fake):
    fake.enqueue(Reply.text("Hello from the writer"))
    first = client.responses.create(model="qor:writer", input="hello")
    assert first.output_text == "Hello from the writer" and first.model == "qor:writer"
    sent = fake.last_request.body["messages"]
    assert sent[0]["role"] == "system" and sent[0]["content"].startswith("You are Writer")
    assert sent[-1] == {"role": "user", "content": "hello"}

    fake.enqueue(Reply.text("Again from the writer"))
    with client.responses.stream(model="qor:writer", input="once more", previous_response_id=first.id) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "Again from the writer" == final.output_text
    sent = fake.last_request.body["messages"]
    assert [m["content"] for m in sent[-3:]] == ["hello", "Hello from the writer", "once more"]

    fake.enqueue(Reply.text("third"))
    events = stream_events(raw, {"model": "qor:writer", "input": "x"})
    assert events[-1]["type"] == "response.completed"


@pytest.mark.parametrize("body, param", [
    ({"model": "fake/fake-model"}, "input"),
    ({"model": "fake/fake-model", "input": []}, "input"),
    ({"model": "fake/fake-model", "input": [{"type": "web_search_call"}]}, "input.0"),
    ({"model": "fake/fake-model", "input": "x", "tools": [{"type": "web_search"}]}, "tools.0.name"),
    ({"model": "fake/fake-model", "input": "x", "temperature": "hot"}, "temperature"),
    ({"model": "fake/fake-model", "input": "x", "text": {"format": {"type": "json_schema"}}}, "text.format.type"),
    ({"model": "fake/fake-model", "input": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "input.0.content.0"),
])
def test_bad_requests_are_400_with_the_field_named(raw, body, param):
    r = raw.post("/v1/responses", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "validation_error" and r.json()["error"]["param"] == param


def test_unknown_model_and_previous_id_are_404(raw):
    r = raw.post("/v1/responses", json={"model": "fake/nope", "input": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = raw.post("/v1/responses", json={"model": "fake/fake-model", "input": "x", "previous_response_id": "resp_x"})
    assert r.status_code == 404 and r.json()["error"]["param"] == "previous_response_id"


def test_upstream_failure_mid_stream_is_an_error_event(raw, fake):
    fake.enqueue(Reply.text("one two three four", error_after=2))
    events = stream_events(raw, {"model": "fake/fake-model", "input": "x"})
    assert events[-1]["type"] == "error" and events[-1]["code"] == "provider_error"
    assert [e["type"] for e in events].count("response.output_text.delta") == 2


def test_a_cut_answer_is_incomplete(client, raw, fake):
    fake.enqueue(Reply.text("cut short", finish_reason="length"))
    cut = client.responses.create(model="fake/fake-model", input="x", max_output_tokens=2)
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"
    validate_openai("Response", raw.get(f"/v1/responses/{cut.id}").json())
    fake.enqueue(Reply.text("cut short", finish_reason="length"))
    events = stream_events(raw, {"model": "fake/fake-model", "input": "x"})
    assert events[-1]["type"] == "response.incomplete" and events[-1]["response"]["status"] == "incomplete"


def test_store_false_is_not_kept_and_images_reach_the_model(client, fake):
    made = client.responses.create(model="fake/fake-model", store=False, input=[{"role": "user", "content": [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}]}])
    assert made.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)
    assert fake.last_request.body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"}}]}]


def test_an_agents_own_tools_run_server_side(client, fake):
    fake.enqueue(Reply.tool_calls([{"id": "call_calc", "name": "calculator", "arguments": {"expression": "6*7"}}],
                                  text="Let me compute. "), Reply.text("It is 42"))
    answer = client.responses.create(model="qor:analyst", input="what is 6*7?")
    assert answer.output_text == "It is 42" and [item.type for item in answer.output] == ["message"]
    sent = fake.last_request.body["messages"]
    assert sent[-1]["role"] == "tool" and sent[-1]["tool_call_id"] == "call_calc" and "42" in sent[-1]["content"]


@pytest.mark.parametrize("model", ["fake/fake-model", "qor:writer"])
def test_a_client_leaving_a_stream_stops_the_upstream_and_stores_nothing(served, fake, model):
    fake.enqueue(Reply.text("tok " * 400, delay=0.02))
    with served.client() as c:
        with c.stream("POST", "/v1/responses", json={"model": model, "input": "long please", "stream": True}) as r:
            lines = r.iter_lines()
            created = None
            while True:
                line = next(lines)
                if line.startswith("data:") and created is None:
                    created = json.loads(line[5:])["response"]["id"]
                if "output_text.delta" in line:
                    break
        assert fake.wait_client_disconnect(1, timeout=1.5)
        assert c.get(f"/v1/responses/{created}").status_code == 404
