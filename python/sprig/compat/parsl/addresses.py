"""Parsl's ``parsl.addresses``, for configs that pass ``address=...`` to an executor.

Sprig's blocks talk to the Sprig process over pipes (or ssh), not over a network address, so
executors ignore the address; these functions still return sensible values.
"""

from __future__ import annotations



def address_by_hostname() -> str:
    """This machine's host name."""
    import socket

    return socket.gethostname()


def address_by_route() -> str:
    """The loopback address (no route is needed: blocks do not connect back over the network)."""
    return "127.0.0.1"


def address_by_query(timeout: float = 30) -> str:
    """The loopback address (Sprig asks no outside service)."""
    return "127.0.0.1"


def address_by_interface(ifname: str) -> str:
    """The loopback address (the interface is not looked up)."""
    return "127.0.0.1"


def get_all_addresses() -> set[str]:
    """The loopback address and the host name."""
    import socket

    return {"127.0.0.1", socket.gethostname()}


def get_any_address() -> str:
    """The loopback address."""
    return "127.0.0.1"


def tcp_url(address: str, port: int | str | None = None) -> str:
    """``tcp://address[:port]``, as Parsl builds it: an IPv6 address is put in brackets when a port
    follows it, and an empty port (None, ``""``, 0) is left out."""
    if not port:
        return f"tcp://{address}"
    host = f"[{address}]" if ":" in address else address
    return f"tcp://{host}:{port}"


__all__ = ["address_by_hostname", "address_by_route", "address_by_query", "address_by_interface",
           "get_all_addresses", "get_any_address", "tcp_url"]
