"""The desk fixtures (:mod:`tests.gateway.tickets.fixtures`) for the tests of this package."""

from tests.gateway.tickets.fixtures import desk, olga, paul

__all__ = ["desk", "olga", "paul"]
