"""Outbound URL rules: which URLs a tool may fetch, decided before any connection is made.

A URL passes when its scheme is http or https, it carries no credentials, its host resolves, and
every address it resolves to is public: loopback, private, link-local, multicast, reserved,
unspecified and shared (CGNAT) ranges are refused, for IPv4 and IPv6 alike, including IPv4 hidden in
IPv6 (``::ffff:127.0.0.1``, 6to4, Teredo, NAT64). ``allow_private`` turns the address rule off;
``allowed_hosts`` exempts single hosts (``"host"`` or ``"host:port"``, matched on the URL's host).

``check_url`` returns the addresses it checked: the caller must connect to one of those and not
resolve the name again, otherwise a DNS answer that changes between check and connect (DNS
rebinding) would slip past. Redirects are new URLs and must be checked again.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class BlockedURL(ValueError):
    """The URL may not be fetched; the message says why in words a model can act on."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str        # lowercase, IDNA-encoded, IPv6 without brackets
    port: int

    @property
    def netloc(self) -> str:
        """The Host header value for this target."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if _DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"


def split_url(url: str) -> Target:
    """Parse and normalise the parts of ``url`` the policy looks at."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedURL(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise BlockedURL(f"only http and https URLs may be fetched, not {scheme or 'a relative URL'!r}")
    if parts.username is not None or parts.password is not None:
        raise BlockedURL("URLs with credentials (user:pass@) are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BlockedURL("the URL has no host")
    if ":" not in host:  # IPv6 literals are already plain ASCII
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise BlockedURL(f"invalid host name {host!r}") from None
    return Target(scheme=scheme, host=host.lower(), port=port or _DEFAULT_PORTS[scheme])


def check_url(url: str, allow_private: bool = False,
              allowed_hosts: tuple[str, ...] | list[str] = ()) -> list[IPAddress]:
    """Resolve ``url``'s host and return its addresses, or raise ``BlockedURL``."""
    target = split_url(url)
    addresses = resolve(target)
    if allow_private or _host_allowed(target, allowed_hosts):
        return addresses
    for address in addresses:
        reason = blocked_reason(address)
        if reason:
            # One bad address refuses the whole name, so a mixed DNS answer cannot be used.
            shown = target.host if str(address) == target.host else f"{target.host} ({address})"
            raise BlockedURL(f"{shown} is a {reason} address; fetching it is not allowed")
    return addresses


def resolve(target: Target) -> list[IPAddress]:
    """Addresses for the target's host; an IP literal is used as is, without DNS."""
    try:
        return [ipaddress.ip_address(target.host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedURL(f"cannot resolve host {target.host!r}: {exc}") from None
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise BlockedURL(f"host {target.host!r} has no addresses")
    return addresses


def blocked_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return blocked_reason(embedded)
        if address.is_site_local:
            return "private"
    checks = (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
              ("link-local", address.is_link_local), ("multicast", address.is_multicast),
              ("private", address.is_private or address in _SHARED),
              ("reserved", address.is_reserved or not address.is_global))
    return next((name for name, hit in checks if hit), None)


def _host_allowed(target: Target, allowed_hosts: tuple[str, ...] | list[str]) -> bool:
    for entry in allowed_hosts:
        host, port = _split_entry(entry.strip().lower())
        if host == target.host and port in (None, target.port):
            return True
    return False


def _split_entry(entry: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host.rstrip("."), int(port)
    return entry.rstrip("."), None
