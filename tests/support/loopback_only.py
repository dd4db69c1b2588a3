"""Keep a test's outbound traffic on this machine: connections to anything but loopback fail fast.

Fuzzers create providers, channels and tool calls with whatever URLs they invent (a provider's
default is a public API); inside the guard those attempts fail like an unreachable host, in the
process that runs the app, so nothing ever leaves 127.0.0.0/8 or [::1].
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from typing import Any, Callable, Iterator

_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host is not None and not is_loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"loopback-only test: {host!r} is not resolved")
    return _real_getaddrinfo(host, *args, **kwargs)


def _address_allowed(sock: socket.socket, address) -> bool:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return True
    return isinstance(address, tuple) and is_loopback(address[0])


def _guarded_connect(self, address):
    if not _address_allowed(self, address):
        raise ConnectionRefusedError(f"loopback-only test: refusing to connect to {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _address_allowed(self, address):
        return 111  # ECONNREFUSED
    return _real_connect_ex(self, address)


def _install(getaddrinfo: Callable[..., Any], connect: Callable[..., Any], connect_ex: Callable[..., Any]) -> None:
    # setattr: these are the stdlib's own functions and methods, replaced process-wide on purpose
    setattr(socket, "getaddrinfo", getaddrinfo)
    setattr(socket.socket, "connect", connect)
    setattr(socket.socket, "connect_ex", connect_ex)


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Within the block, resolving or connecting to a non-loopback address fails at once."""
    _install(_guarded_getaddrinfo, _guarded_connect, _guarded_connect_ex)
    try:
        yield
    finally:
        _install(_real_getaddrinfo, _real_connect, _real_connect_ex)
