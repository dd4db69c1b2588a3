"""Rate limits against real servers: per IP (token bucket) and per tenant, with the IETF headers."""

from __future__ import annotations

from tests.support.servers import InProcessServer, ServeProcess


def test_the_21st_rapid_request_is_429_with_retry_after(tmp_path):
    # burst 20 at the default contract; a slow refill makes "rapid" independent of machine speed
    with ServeProcess(tmp_path / "h", {"rate_ip_rps": "0.2", "rate_ip_burst": "20"}) as srv:
        with srv.client() as api:
            statuses = [api.get("/v1/agents") for _ in range(21)]
            assert [r.status_code for r in statuses[:20]] == [200] * 20
            limited = statuses[20]
            assert limited.status_code == 429
            assert limited.json()["error"]["code"] == "rate_limited"
            assert int(limited.headers["Retry-After"]) >= 1
            assert '"ip"' in limited.headers["RateLimit-Policy"]
            assert limited.headers["RateLimit"].startswith('"ip";r=0')
            assert '"ip";q=20' in statuses[0].headers["RateLimit-Policy"]
            # health probes are never limited
            assert all(api.get(p).status_code == 200 for p in ("/health", "/livez", "/readyz") * 3)


def test_default_limits_trip_under_a_burst(tmp_path):
    with ServeProcess(tmp_path / "h", {"rate_ip_rps": "10", "rate_ip_burst": "20",
                                       "rate_tenant_per_min": "600"}) as srv:
        with srv.client() as api:
            codes = [api.get("/v1/agents").status_code for _ in range(40)]
    assert codes[:20] == [200] * 20
    assert 429 in codes


def test_failed_auth_brute_force_is_rate_limited(tmp_path):
    with ServeProcess(tmp_path / "h", {"rate_ip_rps": "0.2", "rate_ip_burst": "20"}) as srv:
        with srv.client(token=None) as anon:
            codes = [anon.get("/v1/agents", headers={"x-api-key": f"qvn_{i:043d}"}).status_code
                     for i in range(25)]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}


def test_per_tenant_limit(tmp_path):
    with InProcessServer(tmp_path / "h", {"rate_tenant_per_min": "30"}) as srv:
        with srv.client() as api:
            codes = [api.get("/v1/sessions").status_code for _ in range(31)]
            assert codes[:30] == [200] * 30 and codes[30] == 429
            r = api.get("/v1/sessions")
            assert r.json()["error"]["code"] == "rate_limited" and '"tenant"' in r.headers["RateLimit"]
            assert int(r.headers["Retry-After"]) >= 1
