"""A least-recently-used map bounded in entries and in bytes.

The caller states what each value costs (an estimate of the memory it holds, in bytes); a value
that would cost more than `max_entry_bytes` is not kept at all, so that one large request cannot
evict everything else, and the total never exceeds `max_bytes`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByteLRU(Generic[K, V]):
    def __init__(self, *, max_entries: int, max_bytes: int, max_entry_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        found = self._data.get(key)
        if found is None:
            return None
        self._data.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V, cost: int) -> bool:
        """Keep `value` unless it costs more than one entry may; False when it was not kept."""
        data = self._data
        found = data.pop(key, None)  # `discard`, written out: a new request's answer passes here
        if found is not None:
            self.bytes -= found[1]
        if cost > self.max_entry_bytes or self.max_entries <= 0:
            return False
        data[key] = (value, cost)
        self.bytes += cost
        while len(data) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, freed) = data.popitem(last=False)
            self.bytes -= freed
        return True

    def discard(self, key: K) -> None:
        found = self._data.pop(key, None)
        if found is not None:
            self.bytes -= found[1]

    def clear(self) -> None:
        self._data.clear()
        self.bytes = 0
