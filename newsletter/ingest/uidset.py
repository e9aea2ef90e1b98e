"""An exact set of 64-bit keys at about 20 bytes a key, for the uids seen in one big file.

A Python set of ints costs 78 bytes a key: 78 MiB for a million entries, most of the reading
process's memory. Here the keys live in 65,536 sorted arrays of unsigned 64-bit ints chosen
by their top 16 bits (uids are hashes, so the arrays fill evenly), searched and filled by
`bisect` and `array.insert`, both in C.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

_BUCKET_BITS = 16
_SHIFT = 64 - _BUCKET_BITS


class UidSet:
    """Keys from 0 to 2**64 - 1; `add` says whether the key is new."""

    __slots__ = ("_buckets", "_count")

    def __init__(self) -> None:
        self._buckets: list[array[int] | None] = [None] * (1 << _BUCKET_BITS)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: int) -> bool:
        bucket = self._buckets[key >> _SHIFT]
        if bucket is None:
            return False
        at = bisect_left(bucket, key)
        return at < len(bucket) and bucket[at] == key

    def add(self, key: int) -> bool:
        """Add `key`; False when it was there already."""
        index = key >> _SHIFT
        bucket = self._buckets[index]
        if bucket is None:
            self._buckets[index] = array("Q", (key,))
        else:
            at = bisect_left(bucket, key)
            if at < len(bucket) and bucket[at] == key:
                return False
            bucket.insert(at, key)
        self._count += 1
        return True
