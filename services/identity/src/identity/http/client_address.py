"""Who is calling: the socket's peer, or what a trusted proxy says it saw.

``X-Forwarded-For`` is believed only when the peer is a configured trusted
proxy; then the address is the right-most hop that is not itself trusted,
since every hop left of it could have been written by the client.
"""

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.requests import Request

MAX_HOPS = 32
MAX_ADDRESS_CHARS = 64


class ClientAddress:
    def __init__(self, trusted_proxies: Sequence[IPv4Network | IPv6Network]) -> None:
        self._trusted = list(trusted_proxies)

    def of(self, request: Request) -> str | None:
        peer = request.client.host[:MAX_ADDRESS_CHARS] if request.client else None
        if peer is None or not self._is_trusted(_parse(peer)):
            return peer
        hops = [
            hop.strip()
            for header in request.headers.getlist("x-forwarded-for")
            for hop in header.split(",")
        ][-MAX_HOPS:]
        for hop in reversed(hops):
            address = _parse(hop)
            if address is None:
                break  # garbage from here on: trust nothing further left
            if not self._is_trusted(address):
                return str(address)
        return peer

    def _is_trusted(self, address: IPv4Address | IPv6Address | None) -> bool:
        return address is not None and any(address in net for net in self._trusted)


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
