"""current_time: the injected clock, shown in the asked time zone."""

from __future__ import annotations


def test_default_is_utc_from_the_context_clock(registry, ctx):
    result = registry.invoke("current_time", {}, ctx)
    assert result.ok
    assert result.result == {"timezone": "UTC", "iso": "2026-03-14T15:09:26+00:00", "date": "2026-03-14",
                             "time": "15:09:26", "weekday": "Saturday", "utc_offset": "+0000",
                             "unix": 1773500966}


def test_other_time_zones(registry, ctx):
    tokyo = registry.invoke("current_time", {"timezone": "Asia/Tokyo"}, ctx).result
    assert tokyo["iso"] == "2026-03-15T00:09:26+09:00" and tokyo["weekday"] == "Sunday"
    assert tokyo["unix"] == 1773500966
    new_york = registry.invoke("current_time", {"timezone": "America/New_York"}, ctx).result
    assert new_york["utc_offset"] == "-0400"  # DST started on 8 March 2026


def test_unknown_time_zone_is_a_tool_error(registry, ctx):
    for name in ("Mars/Olympus", "../../etc/passwd", "UTC+25"):
        result = registry.invoke("current_time", {"timezone": name}, ctx)
        assert not result.ok and result.error["code"] == "unknown_timezone", name
