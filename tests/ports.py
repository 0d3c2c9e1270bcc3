"""A free TCP port on loopback, for servers a test starts (no conftest import: no cycles).

The port is drawn below the kernel's ephemeral range (``ip_local_port_range``): a port the
kernel handed out for ``bind(0)`` and got back is the next one it gives as the local end of
some outgoing connection (a database client, an HTTP call, the other CI pass running beside
this one), which then holds it when the server the port was meant for starts."""

import random
import socket

#: Below Linux's default ephemeral range (32768-60999) and above the well-known services.
LOW, HIGH = 20000, 32767
_given: set[int] = set()
#: Not the random module's own generator: Hypothesis seeds that one the same in every process.
_random = random.SystemRandom()


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    for _ in range(200):
        port = _random.randint(LOW, HIGH)
        if port not in _given and _bindable(port):
            _given.add(port)
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
