"""The SSRF guard: non-public addresses are refused unless allowlisted.

Addresses are checked with the classifier alone, never by connecting to them.
"""

from __future__ import annotations

import ipaddress

import pytest

from rasid.netguard import AddressGuard, BlockedAddress, is_public_address

NOT_PUBLIC = [
    "127.0.0.1",
    "127.0.0.2",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata service
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.2.1",
    "198.18.0.1",
    "::1",
    "::",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "ff02::1",
    "ff0e::1",
    "fec0::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "::127.0.0.1",  # deprecated IPv4-compatible form
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_global_unicast_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0:80/",
        "http://2130706433/",  # 127.0.0.1 written as one decimal number
        "http://localhost/",  # a name that resolves to loopback
    ],
)
def test_urls_to_non_public_addresses_are_blocked(url: str) -> None:
    with pytest.raises(BlockedAddress, match="not a public address"):
        AddressGuard("").check_url(url)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://93.184.216.34/", "gopher://93.184.216.34/", "http:///x"]
)
def test_only_http_urls_with_a_host_pass(url: str) -> None:
    with pytest.raises(BlockedAddress):
        AddressGuard("").check_url(url)


def test_public_literal_address_passes_without_dns() -> None:
    AddressGuard("").check_url("https://93.184.216.34/news/1")


def test_allowlisted_address_passes_and_its_neighbour_does_not() -> None:
    guard = AddressGuard("127.0.0.1")
    guard.check_url("http://127.0.0.1:8080/")
    guard.check_url("http://[::ffff:127.0.0.1]:8080/")  # the same address, IPv4-mapped
    with pytest.raises(BlockedAddress, match="127.0.0.2"):
        guard.check_url("http://127.0.0.2:8080/")


def test_allowlist_takes_ranges_and_host_names() -> None:
    guard = AddressGuard(" 10.0.0.0/8 , demo.internal,[::1]")
    guard.check_url("http://10.20.30.40/")
    guard.check_url("http://[::1]/")
    guard.check_url("http://DEMO.internal./")  # allowlisted by name: not even resolved
    with pytest.raises(BlockedAddress):
        guard.check_url("http://192.168.0.1/")
