"""The report's day summaries as bytes (qms/report_days.py): integers packed and read back exactly, and a
group's values as positions among its day's."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms.report_days import decode_ints, encode_ints, ranks

INT64 = st.integers(min_value=-(2**62), max_value=2**62)


@given(st.lists(INT64, max_size=400))
def test_sorted_values_come_back_exactly(values):
    values.sort()
    assert decode_ints(encode_ints(values)) == values


@given(st.lists(INT64, max_size=40))
def test_figures_unsorted_come_back_exactly(values):
    assert decode_ints(encode_ints(values, delta=False), delta=False) == values


def test_the_smallest_type_is_used():
    small = encode_ints(list(range(0, 3000, 3)))  # differences of 3: one byte each before compression
    wide = encode_ints([i * 10**9 for i in range(1000)])  # differences of 10**9: four bytes each
    assert small[:1] == b"b" and wide[:1] == b"i"
    assert encode_ints([2**40, 2**41])[:1] == b"q"
    assert encode_ints([]) == b"" and decode_ints(b"") == []


def test_positions_of_equal_values_are_each_used_once():
    day = [1, 5, 5, 5, 9, 12]
    assert ranks([5, 5], day) == [1, 2]
    assert ranks([1, 5, 5, 5, 12], day) == [0, 1, 2, 3, 5]
    assert [day[i] for i in ranks([5, 9], day)] == [5, 9]
    with pytest.raises(ValueError, match="7 is not among"):
        ranks([7], day)
    with pytest.raises(ValueError, match="5 is not among"):
        ranks([5, 5, 5, 5], day)  # one more 5 than the day had
