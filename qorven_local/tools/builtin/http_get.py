"""http_get: fetch one web page as readable text, within the outbound URL policy.

Every hop (the URL and each redirect, followed here by hand, at most ``http_max_redirects``) goes
through ``urlpolicy.check_url`` before any connection. The request is then sent to the checked IP
address itself, with the original name in the Host header and as the TLS SNI/certificate name, so
the name is never resolved a second time and a DNS rebind between check and connect cannot change
the destination. Proxies from the environment are ignored for the same reason.
httpx, ssl and certifi are imported on first use (start-up time).
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urljoin

from qorven_local.security.urlpolicy import BlockedURL, check_url, split_url
from qorven_local.tools.builtin._html_text import html_to_text
from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, tool

if TYPE_CHECKING:
    import ssl

    import httpx

_REDIRECTS = {301, 302, 303, 307, 308}
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml+xml",
               "application/javascript", "application/ld+json", "application/rss+xml",
               "application/atom+xml")
_HEADERS = {"User-Agent": "QorvenLocal/0.1 (http_get tool)",
            "Accept": "text/html, text/plain;q=0.9, application/json;q=0.9, */*;q=0.5"}


# The tool enforces its own total deadline; the registry limit is only a backstop above it.
@tool(builtin=True, timeout_s=60)
def http_get(ctx: ToolContext, url: Annotated[str, {"minLength": 1, "maxLength": 4000}]) -> dict:
    """Fetch a web page or text document over HTTP(S) and return its readable text.

    Args:
        url: Absolute http:// or https:// URL.
    """
    import httpx

    settings = ctx.settings
    deadline = time.monotonic() + settings.http_timeout_s
    with httpx.Client(trust_env=False, follow_redirects=False, headers=_HEADERS, verify=tls_context()) as client:
        for _ in range(settings.http_max_redirects + 1):
            response = _request(client, url, ctx, deadline)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    url = urljoin(url, location)
                    continue
                body, truncated = _read_limited(response, settings.http_max_bytes, deadline)
                return _page(url, response, body, truncated, settings.http_max_text_chars)
            finally:
                response.close()
    raise ToolError("too_many_redirects", f"more than {settings.http_max_redirects} redirects")


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Certificate checks against the URL's host name (sent as SNI); built once, it is costly."""
    import ssl

    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _request(client: httpx.Client, url: str, ctx: ToolContext, deadline: float) -> httpx.Response:
    """Check ``url`` and send the GET to one of its checked addresses; the response is streaming."""
    import httpx

    settings = ctx.settings
    try:
        addresses = check_url(url, settings.allow_private, settings.allowed_hosts)
        target = split_url(url)
    except BlockedURL as exc:
        raise ToolError("url_blocked", str(exc)) from None
    extensions = {} if target.host == str(addresses[0]) or target.scheme != "https" \
        else {"sni_hostname": target.host}
    last_error: Exception | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        request = client.build_request(
            "GET", httpx.URL(url).copy_with(host=str(address)), headers={"Host": target.netloc},
            extensions=extensions, timeout=httpx.Timeout(remaining))
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError as exc:
            last_error = exc  # try the next checked address
        except httpx.TimeoutException:
            break
        except httpx.HTTPError as exc:
            raise ToolError("http_error", f"request to {target.host} failed: {exc}") from None
    if last_error is not None and deadline > time.monotonic():
        raise ToolError("http_error", f"could not connect to {target.host}: {last_error}")
    raise ToolError("http_timeout", f"no answer from {target.host} within {ctx.settings.http_timeout_s:g} s")


def _read_limited(response: httpx.Response, limit: int, deadline: float) -> tuple[bytes, bool]:
    """Up to ``limit`` decoded body bytes; stops early at the deadline (a slow drip) or the limit."""
    import httpx

    chunks, size = [], 0
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return b"".join(chunks)[:limit], True
            if time.monotonic() > deadline:
                raise ToolError("http_timeout", "the response did not finish in time")
    except httpx.TimeoutException:
        raise ToolError("http_timeout", "the response did not finish in time") from None
    except httpx.HTTPError as exc:
        raise ToolError("http_error", f"reading the response failed: {exc}") from None
    return b"".join(chunks), False


def _page(url: str, response: httpx.Response, body: bytes, truncated: bool, max_chars: int) -> dict:
    content_type = response.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    page = {"url": url, "status": response.status_code, "content_type": content_type}
    if mime and not mime.startswith(_TEXT_TYPES):
        return {**page, "text": "", "truncated": truncated,
                "note": f"{mime} content is not text; {len(body)} bytes not shown"}
    try:
        text = body.decode(response.charset_encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = body.decode("utf-8", errors="replace")
    if mime in ("text/html", "application/xhtml+xml") or (not mime and "<html" in text[:1000].lower()):
        text = html_to_text(text)
    if len(text) > max_chars:
        text, truncated = text[:max_chars], True
    return {**page, "text": text, "truncated": truncated}
