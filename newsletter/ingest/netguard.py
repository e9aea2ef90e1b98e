"""Where a fetch may connect, and for how long: the network layer under httpx.

A source's URL is the editor's, but the server it names may redirect anywhere: to the
machine itself (127.0.0.1), the local network, or a cloud's metadata service (169.254.169.254).
So every connection, the first and each redirect's, is checked after DNS resolution, and the
checked address is the one connected to (a second lookup could answer differently). One
deadline covers the whole fetch, connecting, the headers and the body: a server that drips a
header line every few seconds never passes a per-read timeout, but it does pass the deadline.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
import typing
from collections.abc import Iterable
from typing import TypeAlias
from urllib.parse import urlsplit, urlunsplit

import certifi
import httpcore
import httpx

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
SocketOption: TypeAlias = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class AddressRefused(Exception):
    """A fetch would connect to an address a source may not reach."""

    def __init__(self, host: str, address: str, kind: str):
        shown = host if host == address else f"{host} ({address})"
        super().__init__(
            f"refused to connect to {shown}, a {kind} address "
            "(set allow_private = true on the source to fetch from it)"
        )


def address_kind(address: IPAddress) -> str | None:
    """What makes an address off limits (None: a public address, fetched)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, test in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
    ):
        if test:
            return kind
    return None if address.is_global else "non-public"


def without_credentials(url: str) -> str:
    """A URL as it may be printed or stored: any user name and password taken out."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


class Deadline:
    """The moment a fetch gives up; every wait is cut to what is left of it."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def left(self, timeout: float | None) -> float:
        remaining = self.ends - time.monotonic()
        if remaining <= 0:
            raise httpcore.ReadTimeout(f"no complete answer within {self.seconds:g} s")
        return remaining if timeout is None else min(timeout, remaining)


class _Stream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline):
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.left(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        secured = self._stream.start_tls(ssl_context, server_hostname, self._deadline.left(timeout))
        return _Stream(secured, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to allowed addresses, and only until the deadline."""

    def __init__(self, deadline: Deadline, *, allow_private: bool):
        self._deadline = deadline
        self._allow_private = allow_private
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in self._addresses(host, port):  # each checked, then tried in turn
            try:
                stream = self._backend.connect_tcp(
                    address, port, self._deadline.left(timeout), local_address, socket_options
                )
            except httpcore.ConnectError as error:
                failure = error
                continue
            return _Stream(stream, self._deadline)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        del timeout, socket_options  # nothing is connected
        raise AddressRefused(path, path, "local socket")

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, self._deadline.left(None)))

    def _addresses(self, host: str, port: int) -> list[str]:
        """The addresses a name resolves to, if every one is allowed."""
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}")
        if not self._allow_private:
            # All, not some: a name that also resolves inward could be made to connect inward.
            for address in addresses:
                self.check(host, address)
        return list(dict.fromkeys(str(address) for address in addresses))

    def check(self, host: str, address: IPAddress) -> None:
        kind = address_kind(address)
        if kind is not None:
            raise AddressRefused(host, str(address), kind)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport on the guarded network layer; proxy settings are not read, as a
    proxy would connect where the guard cannot see."""

    def __init__(self, deadline: Deadline, *, allow_private: bool):
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            network_backend=GuardedBackend(deadline, allow_private=allow_private),
        )
