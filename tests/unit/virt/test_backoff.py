"""The reconnection policy on its own (the reconnection itself is tested against a restarted
libvirtd in tests/integration)."""

from itertools import islice

from rfconsole.virt.host import Backoff


def test_doubles_from_half_a_second_up_to_ten():
    assert list(islice(Backoff().delays(), 8)) == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_custom_policy():
    assert list(islice(Backoff(first=0.1, cap=0.25, factor=3).delays(), 4)) == [0.1, 0.25, 0.25, 0.25]
