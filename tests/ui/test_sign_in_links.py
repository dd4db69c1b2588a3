"""The UI's markdown renderer (ui/js/markdown.js, run in the browser) never makes a clickable link into
this app that carries a sign-in fragment (``#token=``, ``#login=``): an answer steered by someone else's
text could otherwise sign the reader's browser in as that someone (login CSRF).

A finding of the hardening review; it lives here rather than in tests/security because it needs this
folder's Chromium fixture, and a second session-wide Playwright in one process breaks the first.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def render(rendered_markdown):
    return rendered_markdown


@pytest.mark.parametrize("template", [
    "[open your workspace]({origin}/#token=qvn_attacker)",
    "{origin}/#token=qvn_attacker",
    "<{origin}/#login=one-time-code>",
    "[agents]({origin}/#/agents&token=qvn_attacker)",
    "[sign in]({origin}/?x=1#login=code)",
    "[escaped]({origin}/#%74oken=qvn_attacker)",
    "[case](http://LOCALHOST:{port}/#TOKEN=qvn_attacker)",
    "[other loopback name](http://localhost:{port}/#token=qvn_attacker)",
])
def test_a_sign_in_link_into_this_app_renders_as_text(render, ui, server, template):
    rendered = render(template.format(origin=server.url, port=server.port))
    assert rendered["links"] == [], rendered["html"]
    assert rendered["text"].strip(), rendered["html"]  # shown, as text
    ui.assert_clean()


@pytest.mark.parametrize("template", [
    "[agents]({origin}/#/agents)",
    "[docs](https://example.com/#token=theirs)",  # another site's fragment is that site's business
])
def test_other_links_stay_clickable(render, server, template):
    assert len(render(template.format(origin=server.url, port=server.port))["links"]) == 1
