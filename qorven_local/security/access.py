"""Who may talk to the server, for HTTP and WebSocket alike: Host guard, Origin guard, token.

The WebSocket hand-off bypasses WSGI middleware entirely, so both paths use this module and the
rules cannot drift apart: the Falcon gate (``web/middleware.py``) runs the steps at its own
points, the ``/ws`` hand-off runs them all at once through ``AccessPolicy.authorize()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping
from urllib.parse import urlsplit

from qorven_local.errors import ForbiddenHost, ForbiddenOrigin, Unauthorized
from qorven_local.models import Principal
from qorven_local.security.tokens import TokenService

if TYPE_CHECKING:
    from qorven_local.security.browser_sessions import BrowserSessions

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SUBPROTOCOL_TOKEN_PREFIX = "token."
SESSION_COOKIE = "qorven_session"
# Sec-Fetch-Site values of the UI's own requests: same-origin fetches, and what the user typed or opened.
OWN_FETCH_SITES = frozenset({"same-origin", "none"})


def split_host(value: str) -> tuple[str, str | None]:
    """('localhost', '7421') from 'localhost:7421'; IPv6 literals keep their brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return value, None
        host, rest = value[:end + 1], value[end + 1:]
        return host, rest[1:] if rest.startswith(":") else None
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, port
    return value, None


def normal_origin(value: str) -> str:
    """An Origin as compared: trimmed, lower-case, without a trailing slash."""
    return value.strip().rstrip("/").lower()


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token from ``Authorization: Bearer`` or ``x-api-key`` (headers must be lower-cased keys)."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    key = headers.get("x-api-key")
    return key.strip() if key else None


def subprotocol_token(header_value: str | None) -> str | None:
    """``<t>`` from a ``Sec-WebSocket-Protocol`` value offering ``token.<t>``, else None.

    Browsers cannot set ``Authorization`` on a WebSocket, so they offer the pair
    ``["qorven.v1", "token.<t>"]``. An empty ``token.`` entry is no token.
    """
    for entry in (header_value or "").split(","):
        entry = entry.strip()
        if entry.startswith(SUBPROTOCOL_TOKEN_PREFIX) and len(entry) > len(SUBPROTOCOL_TOKEN_PREFIX):
            return entry[len(SUBPROTOCOL_TOKEN_PREFIX):]
    return None


def cookie_value(headers: Mapping[str, str], name: str = SESSION_COOKIE) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header (lower-cased keys), else None."""
    for part in (headers.get("cookie") or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name and value.strip():
            return value.strip().strip('"')
    return None


class AccessPolicy:
    """Which Host and Origin values are ours, and who a request's token belongs to."""

    def __init__(self, tokens: TokenService, extra_hosts: tuple[str, ...] = (),
                 bind_host: str = "127.0.0.1", cors_origins: tuple[str, ...] = (),
                 sessions: BrowserSessions | None = None) -> None:
        self.tokens = tokens
        self.sessions = sessions
        self.extra_hosts = tuple(h.strip().lower() for h in extra_hosts if h.strip())
        self.bind_host = bind_host
        # "null" is what sandboxed frames and file: pages send: never a listable origin
        self.cors_origins = frozenset(normal_origin(o) for o in cors_origins if normal_origin(o) not in ("", "null"))

    def origin_listed(self, origin: str | None) -> bool:
        """True when ``origin`` is one of QORVEN_CORS_ORIGINS (compared exactly, case-insensitively)."""
        return origin is not None and normal_origin(origin) in self.cors_origins

    def host_allowed(self, host_header: str | None, port: int | str | None) -> bool:
        """True for a loopback name (or the bind host) on our port, or an allowed extra host."""
        if not host_header:
            return False
        host, hport = split_host(host_header)
        names = set(LOOPBACK_NAMES)
        if self.bind_host not in ("127.0.0.1", "0.0.0.0", "::", "localhost", "::1"):
            names.add(self.bind_host.lower())
        port = str(port) if port is not None else None
        if host in names and (hport == port or (hport is None and port == "80")):
            return True
        for extra in self.extra_hosts:
            ehost, eport = split_host(extra)
            if host == ehost and (eport is None or eport == hport):
                return True
        return False

    def check_host(self, host_header: str | None, port: int | str | None) -> None:
        """Refuse a Host that is not ours (the DNS-rebinding guard)."""
        if not self.host_allowed(host_header, port):
            raise ForbiddenHost(f"Host {host_header!r} is not allowed; use http://127.0.0.1:{port}/ "
                                f"or add it to QORVEN_ALLOWED_HOSTS")

    def check_origin(self, headers: Mapping[str, str], port: int | str | None, always: bool = False,
                     method: str = "GET") -> None:
        """Refuse cross-site browser requests: on state-changing methods, or always (WebSocket)."""
        if not always and method.upper() not in STATE_CHANGING:
            return
        if self.origin_listed(headers.get("origin")):
            return  # the user opted this origin in (QORVEN_CORS_ORIGINS); its token is still checked
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            raise ForbiddenOrigin("cross-site request refused")
        origin = headers.get("origin")
        if origin is None:
            return  # not a browser, or a same-origin navigation
        parts = urlsplit(origin)
        if origin == "null" or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ForbiddenOrigin(f"Origin {origin!r} is not allowed")
        if not self.host_allowed(parts.netloc, port):
            raise ForbiddenOrigin(f"Origin {origin!r} is not allowed")

    def same_origin(self, headers: Mapping[str, str], port: int | str | None) -> bool:
        """Whether a request comes from the app's own pages (or no browser page at all).

        Only then may the ``qorven_session`` cookie count. SameSite=Strict is not enough: every
        port of 127.0.0.1 is the same *site*, so a page served by another local program sends the
        cookie too; its Origin (or Sec-Fetch-Site: same-site) tells it apart. A listed CORS origin
        never uses the cookie: it must send a token.
        """
        site = headers.get("sec-fetch-site")
        if site is not None and site.lower() not in OWN_FETCH_SITES:
            return False
        origin = headers.get("origin")
        if origin is None:
            return True
        if self.origin_listed(origin):
            return False
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and self.host_allowed(parts.netloc, port)

    def authenticate(self, headers: Mapping[str, str], allow_subprotocol: bool = False,
                     port: int | str | None = None) -> Principal:
        """The principal of the request's token (header, or the WebSocket subprotocol pair if allowed),
        else of its session cookie when the request is the app's own (``same_origin``)."""
        token = bearer_token(headers)
        if token is None and allow_subprotocol:
            token = subprotocol_token(headers.get("sec-websocket-protocol"))
        if token is None and headers.get("authorization"):
            raise Unauthorized("Authorization must be 'Bearer <token>'")
        if token is None and self.sessions is not None:
            session = cookie_value(headers)
            if session is not None and self.same_origin(headers, port):
                return self.sessions.authenticate(session)
        return self.tokens.authenticate(token)

    def authorize(self, headers: Mapping[str, str], port: int | str | None, method: str = "GET",
                  websocket: bool = False) -> Principal:
        """Host, then Origin, then token: the whole gate for one request (headers lower-cased)."""
        self.check_host(headers.get("host"), port)
        self.check_origin(headers, port, always=websocket, method=method)
        return self.authenticate(headers, allow_subprotocol=websocket, port=port)
