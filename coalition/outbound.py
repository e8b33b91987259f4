"""Outbound HTTP to addresses that organizations choose (webhooks), never to internal networks.

A destination is refused when its host is, or resolves to, a loopback, private, link-local,
multicast, unspecified or reserved address. The check runs when the URL is saved and again
when each request connects: the connection goes to the very address that was resolved and
checked, so a name that re-resolves to an internal address later (DNS rebinding) gets nowhere.
`allow_private=True` (the WEBHOOK_ALLOW_PRIVATE setting) turns the check off, for tests and
for receivers on the same private network.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Checked in order; the first that applies names the refusal.
KINDS = (
    ("is_loopback", "a loopback address"),
    ("is_unspecified", "an unspecified address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_private", "a private network address"),
    ("is_reserved", "a reserved address"),
)


class RefusedDestination(OSError):
    """The destination is on an internal network."""


def refusal(address: Address) -> str | None:
    """Why an address may not be contacted, or None when it is public."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    for attribute, kind in KINDS:
        if getattr(address, attribute):
            return f"{address} is {kind}"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def resolve(host: str, port: int) -> list[Address]:
    """Every address a host name (or literal) stands for."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def checked_address(host: str, port: int) -> str:
    """The first address of the host, after checking that none of them is internal."""
    addresses = resolve(host, port)
    for address in addresses:
        reason = refusal(address)
        if reason is not None:
            raise RefusedDestination(f"refused destination {host}: {reason}")
    if not addresses:
        raise RefusedDestination(f"refused destination {host}: it has no address")
    return str(addresses[0])


def check_url(url: str, allow_private: bool = False) -> None:
    """Refuse a URL whose host is internal; a name that does not resolve now is let through
    (it is checked again, resolved, when a request connects)."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        checked_address(host, port)
    except socket.gaierror:
        return


class _GuardedConnection(HTTPConnection):
    """Connects only to the checked address of its host."""

    def _new_conn(self) -> socket.socket:
        self._dns_host = checked_address(self.host, self.port)
        return super()._new_conn()


class _GuardedHTTPSConnection(HTTPSConnection):
    """The TLS variant: certificate and SNI still name the host, the socket its checked IP."""

    def _new_conn(self) -> socket.socket:
        self._dns_host = checked_address(self.host, self.port)
        return super()._new_conn()


class _GuardedPool(HTTPConnectionPool):
    ConnectionCls = _GuardedConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse internal destinations."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedPool, "https": _GuardedHTTPSPool}


def http_session(allow_private: bool = False) -> requests.Session:
    """A requests session for outbound calls: no proxies from the environment, and (unless
    allowed) no internal destinations."""
    session = requests.Session()
    session.trust_env = False
    if not allow_private:
        adapter = GuardedAdapter(max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session
