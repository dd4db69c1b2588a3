"""The markdown renderer, run in the browser: untrusted text becomes DOM nodes, never markup."""

from __future__ import annotations

import pytest


@pytest.fixture
def render(rendered_markdown):
    return lambda src: rendered_markdown(src)["html"]


@pytest.mark.parametrize("src, bad", [
    ("<img src=x onerror=alert(1)>", "<img"),
    ("<script>alert(1)</script>", "<script"),
    ("[x](javascript:alert(1))", "javascript:"),
    ("[x](data:text/html,<b>1</b>)", "data:"),
    ("![pic](http://example.com/a.png)", "<img"),
    ("`<b>code</b>`", "<b>"),
    ("```html\n<iframe src=//evil></iframe>\n```", "<iframe"),
    ("| a |\n|---|\n| <svg onload=alert(1)> |", "<svg"),
])
def test_untrusted_markup_stays_text(render, ui, src, bad):
    html = render(src)
    assert bad not in html.lower(), html
    ui.assert_clean()


def test_common_markdown_renders(render):
    html = render("# Title\n\nSome **bold**, *em*, `code` and [a link](https://example.com).\n\n"
                  "- one\n- two\n  - nested\n\n1. first\n2. second\n\n> quoted\n\n```py\nprint(1)\n```\n\n"
                  "| a | b |\n|---|---|\n| 1 | 2 |\n\nhttps://example.org/x")
    for fragment in ("<h3", "<strong>bold</strong>", "<em>em</em>", "<code>code</code>",
                     'href="https://example.com/"', 'rel="noopener noreferrer nofollow"', "<ul>", "<li>two<ul>",
                     "<ol>", "<blockquote>", 'data-lang="py"', '<span class="hljs-built_in">print</span>', "<table>", "<td>2</td>",
                     'href="https://example.org/x"'):
        assert fragment in html, (fragment, html)


def test_an_unclosed_fence_renders_as_code_while_streaming(render):
    html = render("Here:\n```js\nconst a = '<b>';\n")
    assert "<pre><code" in html and "&lt;b&gt;" in html and "<b>" not in html
