"""Memory search's common-term cutoff counts the searching tenant's memories only: another tenant's
words neither change which of this tenant's query terms rank nor reveal how often that tenant uses them.

The production cutoff (``COMMON_TERM_DOCS``) needs thousands of memories; like
``tests/memory/test_search_costs.py`` the test lowers it on the running server's ranker to a few.
"""

from __future__ import annotations

import pytest

NOTES = [
    "The harbour crane lifts containers every morning",
    "The harbour office opens at eight",
    "The harbour pilot boards ships at the outer buoy",
    "Crane seven at the harbour was repainted turquoise",
    "The turquoise crane needs a new winch cable",
]
QUERY = "harbour crane turquoise winch"
NEIGHBOUR_NOTES = [  # different enough not to be de-duplicated, each with turquoise and winch
    "Order turquoise paint for the anchor winch before Friday",
    "The turquoise winch in bay three squeaks when it rains",
    "Budget meeting: the winch repair and the turquoise signage",
    "Customer asked whether the winch comes in turquoise",
    "Inventory lists two turquoise winch covers and a ladder",
]


def save(api, content: str) -> None:
    r = api.post("/v1/memory/save", json={"scope": "workspace", "kind": "fact", "content": content})
    assert r.status_code == 201, r.text


def keyword_matches(api) -> set[str]:
    """The memories the keyword side of the search ranked at all."""
    r = api.post("/v1/memory/search", json={"scope": "workspace", "query": QUERY, "max_results": 20})
    assert r.status_code == 200, r.text
    return {hit["content"] for hit in r.json()["data"] if hit["match"]["keyword"] is not None}


@pytest.fixture
def two_tenants(server, admin):
    server.ctx.memory.ranker.common_term_docs = 2  # harbour (4) and crane (3) are common, turquoise (2) is not
    other = server.client(token=server.ctx.tokens.issue("other-tenant", "admin", label="neighbour"))
    yield admin, other
    other.close()


def test_another_tenants_words_do_not_change_which_terms_rank(two_tenants):
    mine, neighbour = two_tenants
    for note in NOTES:
        save(mine, note)
    # the neighbour writes "turquoise" and "winch" often: counted across tenants they would become common
    # too, and the cutoff would rank this tenant's search on harbour and crane instead
    for note in NEIGHBOUR_NOTES:
        save(neighbour, note)
    assert keyword_matches(mine) == {"The turquoise crane needs a new winch cable"}
