"""Outbound URL rules: decided from the URL and its resolved addresses, before any connection."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from qorven_local.security.urlpolicy import BlockedURL, blocked_reason, check_url, split_url


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("10.0.0.1", "private"),
    ("172.16.5.4", "private"), ("192.168.1.1", "private"), ("100.64.0.1", "private"),
    ("169.254.169.254", "link-local"), ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"),
    ("240.0.0.1", "private"), ("255.255.255.255", "private"), ("192.0.2.1", "private"),
    ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"), ("fc00::1", "private"),
    ("fec0::1", "private"), ("ff02::1", "multicast"), ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"), ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"), ("2001:db8::1", "private"),
])
def test_non_public_addresses_are_blocked(address, reason):
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_ip_literals_are_checked_without_dns():
    assert check_url("https://93.184.216.34/x") == [ipaddress.ip_address("93.184.216.34")]
    assert check_url("http://[2606:4700:4700::1111]:8080/") == [ipaddress.ip_address("2606:4700:4700::1111")]


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.1/", "loopback"), ("http://10.0.0.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"), ("http://[::1]:80/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"), ("http://localhost:8080/", "loopback"),
    ("http://LOCALHOST./", "loopback"), ("http://2130706433/", "loopback"), ("http://0x7f.1/", "loopback"),
    ("http://0.0.0.0:80/", "unspecified"),
    ("file:///etc/passwd", "only http and https"), ("ftp://example.com/", "only http and https"),
    ("gopher://127.0.0.1/", "only http and https"), ("/relative/path", "only http and https"),
    ("http://user:pw@93.184.216.34/", "credentials"), ("http:///nohost", "no host"),
    ("http://93.184.216.34:99999/", "malformed"),
])
def test_refused_urls_say_why(url, words):
    with pytest.raises(BlockedURL) as caught:
        check_url(url)
    assert words in str(caught.value)


def test_allow_private_turns_the_address_rule_off():
    assert check_url("http://10.0.0.1/", allow_private=True) == [ipaddress.ip_address("10.0.0.1")]
    with pytest.raises(BlockedURL):
        check_url("file:///etc/passwd", allow_private=True)


def test_allowed_hosts_exempt_exactly_the_named_host_and_port():
    allowed = ("127.0.0.1:8080", "LocalHost", "[::1]:9000", "10.1.2.3")
    assert check_url("http://127.0.0.1:8080/", allowed_hosts=allowed)
    assert check_url("http://localhost:1234/", allowed_hosts=allowed)
    assert check_url("http://[::1]:9000/", allowed_hosts=allowed)
    assert check_url("https://10.1.2.3/", allowed_hosts=allowed)
    for url in ("http://127.0.0.1:8081/", "http://127.0.0.1/", "http://[::1]:9001/"):
        with pytest.raises(BlockedURL):
            check_url(url, allowed_hosts=allowed)


def test_one_private_address_in_a_dns_answer_refuses_the_name(monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "mixed.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(BlockedURL) as caught:
        check_url("http://mixed.test/")
    assert "mixed.test (10.0.0.7) is a private address" in str(caught.value)


def test_unresolvable_names_are_refused(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(BlockedURL) as caught:
        check_url("http://no-such-host.test/")
    assert "cannot resolve" in str(caught.value)


def test_split_url_normalises_host_and_port():
    target = split_url("HTTPS://Bücher.Example/x")
    assert (target.scheme, target.host, target.port) == ("https", "xn--bcher-kva.example", 443)
    assert target.netloc == "xn--bcher-kva.example"
    assert split_url("http://[::1]:8080/").netloc == "[::1]:8080"
