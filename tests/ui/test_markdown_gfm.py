"""Markdown as models write it: examples from the GFM spec (github.github.com/gfm) rendered by the UI's
own renderer in Chromium, compared on structure, plus syntax highlighting of fenced code.

The examples are the spec's own (numbers given), chosen for what models emit: nested and loose lists,
task lists, tables with alignment and escaped pipes, fences inside list items, strikethrough,
autolinks, and the usual emphasis edge cases.
"""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def rendered(rendered_markdown):
    return rendered_markdown


def squash(html: str) -> str:
    """Markup without whitespace between tags, for comparing structure."""
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("src, expected", [
    # Example 198: a table
    ("| foo | bar |\n| --- | --- |\n| baz | bim |",
     "<thead><tr><th>foo</th><th>bar</th></tr></thead><tbody><tr><td>baz</td><td>bim</td></tr></tbody>"),
    # Example 200: escaped pipes inside cells
    ("| f\\|oo  |\n| ------ |\n| b `\\|` az |\n| b **\\|** im |",
     "<tbody><tr><td>b <code>|</code> az</td></tr><tr><td>b <strong>|</strong> im</td></tr></tbody>"),
    # Example 279: task list items
    ("- [ ] foo\n- [x] bar", 'type="checkbox"'),
    # Example 491: strikethrough
    ("~~Hi~~ Hello, ~world~!", "<del>Hi</del> Hello, <del>world</del>!"),
    # Example 622: www autolink
    ("Visit https://commonmark.org/help for more.", 'href="https://commonmark.org/help"'),
    # Example 294: nested list, each level its own list
    ("- foo\n  - bar\n    - baz\n      - boo", "<ul><li>foo<ul><li>bar<ul><li>baz<ul><li>boo</li></ul></li></ul></li></ul></li></ul>"),
    # Example 306: a loose list (blank line between items) wraps items in paragraphs
    ("- a\n- b\n\n- c", "<ul><li><p>a</p></li><li><p>b</p></li><li><p>c</p></li></ul>"),
    # Example 301: ordered list with a start number
    ("10) foo\n    - bar", '<ol start="10"><li>foo<ul><li>bar</li></ul></li></ol>'),
    # Example 350: emphasis inside words with underscores stays literal
    ("foo_bar_", "<p>foo_bar_</p>"),
    # Example 404-ish: strong inside emphasis
    ("*foo **bar** baz*", "<em>foo <strong>bar</strong> baz</em>"),
])
def test_gfm_spec_examples(rendered, src, expected):
    html = squash(rendered(src)["html"])
    assert expected in html, html


def test_a_fence_inside_a_list_item_stays_in_the_item(rendered):
    # GFM example 318's shape: a fenced block indented under its list item.
    html = squash(rendered("1. Install:\n\n   ```bash\n   pip install qorven\n   ```\n\n2. Run it")["html"])
    first_item = html.split("</li>")[0]
    assert "<pre><code" in first_item and "pip install qorven" in first_item, html
    assert '<li><p>Run it</p></li>' in html or "<li>Run it</li>" in html, html


def test_table_alignment_and_a_task_list_render_as_models_write_them(rendered):
    result = rendered("| Left | Right |\n|:-----|------:|\n| a | 1 |\n\n- [x] done\n- [ ] next")
    html = squash(result["html"])
    assert 'align="right"' in html and '<div class="md-table"><table>' in html, html
    assert html.count('type="checkbox"') == 2 and 'aria-label="done"' in html and 'aria-label="to do"' in html
    assert "disabled" in html


def test_code_is_highlighted_for_known_languages_only(rendered):
    py = squash(rendered("```python\ndef add(a, b):\n    return a + b  # sum\n```")["html"])
    assert '<span class="hljs-keyword">def</span>' in py and 'class="hljs-comment"' in py, py
    assert 'data-lang="python"' in py
    plain = squash(rendered("```nosuchlang\ndef add(a): pass\n```")["html"])
    assert "hljs-keyword" not in plain and "def add(a): pass" in plain, plain


def test_markup_inside_highlighted_code_stays_text(rendered):
    result = rendered("```html\n<script>alert(1)</script><img src=x onerror=alert(2)>\n```")
    assert "<script" not in result["html"] and "<img" not in result["html"], result["html"]
    assert "<script>alert(1)</script>" in result["text"]


def test_single_newlines_break_lines_as_chat_models_expect(rendered):
    html = squash(rendered("line one\nline two")["html"])
    assert "line one<br>line two" in html, html
