"""current_time: the date and time now, in a chosen time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, tool


@tool(builtin=True)
def current_time(ctx: ToolContext, timezone: str | None = None) -> dict:
    """Get the current date and time.

    Args:
        timezone: IANA time zone name such as "Europe/Paris" or "America/New_York"; default UTC.
    """
    name = timezone or "UTC"
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # ValueError: keys like "../etc" that are not zone names at all.
        raise ToolError("unknown_timezone",
                        f"unknown time zone {name!r}; use an IANA name like 'Europe/Berlin'") from None
    now = ctx.clock().astimezone(zone)
    return {"timezone": name, "iso": now.isoformat(), "date": now.date().isoformat(),
            "time": now.strftime("%H:%M:%S"), "weekday": now.strftime("%A"),
            "utc_offset": now.strftime("%z"), "unix": int(now.timestamp())}
