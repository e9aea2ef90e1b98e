"""The compact uid set behaves exactly as a set of ints (Hypothesis against the model)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from newsletter.ingest.uidset import UidSet

KEYS = st.one_of(
    st.integers(0, 2**64 - 1),
    st.integers(0, 1000),  # many in the first bucket
    st.sampled_from([0, 1, 2**48 - 1, 2**48, 2**63, 2**64 - 2, 2**64 - 1]),  # bucket edges
)


@given(st.lists(KEYS, max_size=300))
def test_a_uid_set_is_a_set(keys: list[int]) -> None:
    model: set[int] = set()
    uids = UidSet()
    for key in keys:
        assert uids.add(key) == (key not in model)
        model.add(key)
        assert key in uids
    assert len(uids) == len(model)
    for key in keys:
        if key + 1 < 2**64:
            assert (key + 1 in uids) == (key + 1 in model)


def test_a_million_uids_take_far_less_memory_than_a_set() -> None:
    import random
    import sys

    uids = UidSet()
    generator = random.Random(7)
    for _ in range(1_000_000):
        uids.add(generator.getrandbits(64))
    arrays = [bucket for bucket in uids._buckets if bucket is not None]
    size = sys.getsizeof(uids._buckets) + sum(sys.getsizeof(bucket) for bucket in arrays)
    assert size < 1_000_000 * 30  # bytes: a set of ints takes about 78 a key
