"""A free TCP port on loopback, for servers a test starts (no conftest import: no cycles)."""

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
