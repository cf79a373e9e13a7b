"""Slowing down key guessing: too many failed authentications from one address in a minute
answer 429 until the oldest failure ages out. Requests with a valid key are never counted or
refused, so a user behind the same address as an attacker keeps working."""

from __future__ import annotations

import math
from collections import OrderedDict, deque


class FailureLimiter:
    def __init__(self, limit: int, window_seconds: float = 60.0, max_addresses: int = 10_000):
        self.limit = limit
        self.window = window_seconds
        # Bounded so that a flood from many addresses cannot grow memory without end.
        self.max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def record_failure(self, address: str, now: float) -> int | None:
        """Count one failure; the seconds to wait if the address is now over the limit."""
        failures = self._failures.pop(address, None) or deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        failures.append(now)
        while len(failures) > self.limit + 1:
            failures.popleft()
        self._failures[address] = failures
        if len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)
        if len(failures) <= self.limit:
            return None
        return max(1, math.ceil(failures[0] + self.window - now))
