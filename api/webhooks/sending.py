"""Sending one webhook request, safely: HTTPS only (unless allowed), only to public addresses (unless their network is
allowed), checked when sending, to the very address checked (no second lookup a DNS answer could change), without
following redirects, and answered as a category, never in the receiver's words: a webhook must not be a way to reach
or scan the servers around this one."""

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Reach:
    """Where webhooks may go: plain http too (`allow_http`), and addresses of these networks besides public ones."""

    allow_http: bool = False
    allow_networks: Sequence[IpNetwork] = ()

    def allows(self, address: IpAddress) -> bool:
        if address.version == 6 and address.ipv4_mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
            address = address.ipv4_mapped
        if any(address in network for network in self.allow_networks):
            return True
        return address.is_global and not address.is_multicast


class NotAllowed(Exception):
    """The URL's scheme or address is not one webhooks may go to."""


def check_url(url: str, reach: Reach) -> None:
    """Refuse, before any sending, a URL whose scheme is not allowed or whose host is an address that is not (a name
    is checked each time it is sent to, since what it resolves to may change)."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and reach.allow_http):
        raise NotAllowed("webhooks go to https URLs")
    literal = _literal_address(parts.hostname or "")
    if literal is not None and not reach.allows(literal):
        raise NotAllowed("the address is private, loopback, link-local, multicast or reserved")


def post(url: str, body: bytes, headers: dict[str, str], reach: Reach, timeout_s: float) -> str | None:
    """Send; None when the receiver took it (2xx), else what went wrong, as a category."""
    parts = urlsplit(url)
    try:
        check_url(url, reach)
        address = _vetted_address(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), reach)
    except NotAllowed:
        return "refused: the URL or its address is not allowed"
    except OSError:
        return "no answer: the name does not resolve"
    connection = _connection(parts.scheme, parts.hostname or "", parts.port, address, timeout_s)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers)
        status = connection.getresponse().status
    except TimeoutError:
        return "no answer: timed out"
    except ssl.SSLError:
        return "no answer: TLS failed"
    except (OSError, http.client.HTTPException):
        return "no answer: the connection failed"
    finally:
        connection.close()
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return "answered 3xx: redirects are not followed"
    return f"answered {status // 100}xx"


def _literal_address(host: str) -> IpAddress | None:
    """The address a host names by itself, in any form a resolver takes (0x7f000001, 127.1, [::1])."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _vetted_address(host: str, port: int, reach: Reach) -> str:
    """The address to connect to: every address the name resolves to must be allowed."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]
    if not addresses or not all(reach.allows(address) for address in addresses):
        raise NotAllowed(host)
    return str(addresses[0])


def _connection(scheme: str, host: str, port: int | None, address: str, timeout_s: float) -> http.client.HTTPConnection:
    if scheme == "https":
        return _PinnedHTTPS(host, port, address, timeout_s)
    return _PinnedHTTP(host, port, address, timeout_s)


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to `address`, speaking to `host` (its Host header)."""

    def __init__(self, host: str, port: int | None, address: str, timeout_s: float) -> None:
        super().__init__(host, port, timeout=timeout_s)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """A TLS connection to `address`, with `host` as the name the certificate must have (SNI and verification)."""

    def __init__(self, host: str, port: int | None, address: str, timeout_s: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout_s, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
