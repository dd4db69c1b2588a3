"""Finding 6: refused and tokenless requests from the same loopback IP cannot lock a token out with 429.

A web page can make the browser send requests to the port (cross-site GETs, refused writes, webhooks
under a foreign Host); those pay into the IP's anonymous bucket, a valid token into its own.
"""

from __future__ import annotations

from tests.support.servers import InProcessServer

EVIL = "https://evil.example"


def flood(anon, rounds: int) -> list[int]:
    """What a hostile page (or a local tool without a token) can make land on the port."""
    codes = []
    for _ in range(rounds):
        codes.append(anon.get("/v1/agents", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}).status_code)
        codes.append(anon.post("/v1/agents", json={"name": "x"}, headers={"Origin": EVIL}).status_code)
        codes.append(anon.get("/v1/agents", headers={"Host": "evil.example"}).status_code)
        codes.append(anon.post("/v1/webhooks/telegram", content=b"{}", headers={"Host": "evil.example",
                                                                                 "Content-Type": "application/json"}
                               ).status_code)
    return codes


def test_a_flood_of_refused_and_tokenless_requests_leaves_the_token_at_200(tmp_path):
    with InProcessServer(tmp_path / "h", {"rate_ip_rps": "0.2", "rate_ip_burst": "10"}) as srv:
        with srv.client(token=None) as anon, srv.client() as api:
            codes = flood(anon, 6)
            assert all(400 <= c < 500 for c in codes), codes
            assert codes.count(429) == len(codes) - 10  # the anonymous bucket is what ran dry
            answers = [api.get("/v1/agents") for _ in range(8)]
            assert [r.status_code for r in answers] == [200] * 8
            assert '"ip";q=10' in answers[0].headers["RateLimit-Policy"]
            assert flood(anon, 1).count(429) == 4  # and the flood is still held back


def test_one_token_draining_its_bucket_leaves_another_token_on_the_same_ip_alone(tmp_path):
    with InProcessServer(tmp_path / "h", {"rate_ip_rps": "0.2", "rate_ip_burst": "5"}) as srv:
        other = srv.ctx.tokens.issue("default", "user", label="script")
        with srv.client() as api, srv.client(token=other) as script:
            assert [script.get("/v1/agents").status_code for _ in range(6)] == [200] * 5 + [429]
            assert [api.get("/v1/agents").status_code for _ in range(5)] == [200] * 5
