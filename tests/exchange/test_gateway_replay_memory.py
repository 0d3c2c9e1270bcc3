"""The provider gateway's memory of request ids (replay protection): kept for the window,
forgotten in order of arrival once it has passed."""

from __future__ import annotations

from egov.exchange.gateway.serverproxy import REPLAY_WINDOW_SECONDS, ReplayMemory


def test_an_id_is_refused_again_until_its_window_has_passed() -> None:
    memory = ReplayMemory(window=10)

    assert memory.remember(("GW-A", "r1"), now=100) is True
    assert memory.remember(("GW-A", "r1"), now=105) is False
    assert memory.forget_expired(now=110) == 0
    assert ("GW-A", "r1") in memory
    assert memory.forget_expired(now=110.5) == 1
    assert ("GW-A", "r1") not in memory
    assert memory.remember(("GW-A", "r1"), now=111) is True


def test_the_same_id_from_another_gateway_is_another_request() -> None:
    memory = ReplayMemory(window=10)

    assert memory.remember(("GW-A", "r1"), now=100) is True
    assert memory.remember(("GW-B", "r1"), now=100) is True
    assert len(memory) == 2


def test_housekeeping_forgets_exactly_the_expired_ids_oldest_first() -> None:
    memory = ReplayMemory(window=10)
    for second in range(5):
        memory.remember(("GW-A", f"r{second}"), now=100 + second)

    assert memory.forget_expired(now=112.5) == 3
    assert [("GW-A", f"r{second}") in memory for second in range(5)] == [
        False,
        False,
        False,
        True,
        True,
    ]
    assert len(memory) == 2
    assert memory.forget_expired(now=112.5) == 0
    assert memory.forget_expired(now=1000) == 2
    assert len(memory) == 0


def test_housekeeping_stops_at_the_first_id_still_current() -> None:
    """It never looks past the oldest current id: an entry behind it is not examined."""
    memory = ReplayMemory(window=10)
    memory.remember(("GW-A", "old"), now=100)
    memory.remember(("GW-A", "current"), now=200)
    memory.remember(("GW-A", "behind"), now=201)
    # Were every entry scanned, this one (made older by hand) would be dropped too.
    memory._expiries[("GW-A", "behind")] = 0

    assert memory.forget_expired(now=150) == 1
    assert ("GW-A", "behind") in memory
    assert len(memory) == 2


def test_the_default_window_is_twice_the_allowed_clock_skew() -> None:
    assert ReplayMemory().window == REPLAY_WINDOW_SECONDS == 600
