import pytest

from pollwatch.audit.ranges import (
    clip_ranges,
    invert_ranges,
    merge_ranges,
    ranges_from_samples,
    subtract_ranges,
    total_duration,
)
from pollwatch.audit.types import TimeRange as R


@pytest.mark.parametrize(
    ("flags", "kwargs", "expected"),
    [
        ([0, 1, 1, 0, 1], {}, [R(1, 3), R(4, 5)]),
        ([0, 1, 1, 0, 1], {"max_gap": 1.0}, [R(1, 5)]),
        ([0, 1, 1, 0, 1], {"min_duration": 1.5}, [R(1, 3)]),
        ([1, 1, 1, 1, 1], {}, [R(0, 5)]),
        ([0, 0, 0, 0, 0], {}, []),
    ],
)
def test_ranges_from_samples(flags, kwargs, expected):
    assert list(ranges_from_samples([0, 1, 2, 3, 4], flags, step=1.0, **kwargs)) == expected


def test_a_missing_stretch_of_samples_is_not_filled():
    assert ranges_from_samples([0, 1, 10, 11], [1, 1, 1, 1], step=1.0) == (R(0, 2), R(10, 12))


@pytest.mark.parametrize(
    ("times", "flags", "step", "message"),
    [
        ([0, 1], [1], 1.0, "one length"),
        ([0, 1], [1, 1], 0.0, "step"),
        ([1, 0], [1, 1], 1.0, "increasing"),
    ],
)
def test_ranges_from_samples_rejects_bad_input(times, flags, step, message):
    with pytest.raises(ValueError, match=message):
        ranges_from_samples(times, flags, step=step)


@pytest.mark.parametrize(
    ("ranges", "max_gap", "expected"),
    [
        ([R(5, 6), R(0, 2), R(1, 3)], 0.0, [R(0, 3), R(5, 6)]),
        ([R(5, 6), R(0, 2), R(1, 3)], 2.0, [R(0, 6)]),
        ([R(0, 0), R(1, 2)], 0.0, [R(1, 2)]),
    ],
)
def test_merge_ranges(ranges, max_gap, expected):
    assert list(merge_ranges(ranges, max_gap=max_gap)) == expected


def test_invert_subtract_clip_total():
    rs = [R(1, 2), R(4, 6)]
    assert invert_ranges(rs, 0, 10) == (R(0, 1), R(2, 4), R(6, 10))
    assert subtract_ranges([R(0, 10)], rs) == (R(0, 1), R(2, 4), R(6, 10))
    assert clip_ranges(rs, 1.5, 5) == (R(1.5, 2), R(4, 5))
    assert total_duration([*rs, R(5, 7)]) == 4.0


@pytest.mark.parametrize(("start", "end"), [(2.0, 1.0), (float("nan"), 1.0), (0.0, float("inf"))])
def test_time_range_rejects_bad_bounds(start, end):
    with pytest.raises(ValueError, match="TimeRange"):
        R(start, end)
