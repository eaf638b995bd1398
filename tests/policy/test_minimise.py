"""Minimisation, once for ingest and reads: properties of each level, then a case per kind of value."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goodthings.core.errors import PolicyError
from goodthings.core.keys.datakeys import Value
from goodthings.policy.decisions import DevicePolicy, Level, StreamDecision
from goodthings.policy.minimise import Point, aggregate, coarse, minimise

TIMES = st.floats(min_value=0, max_value=2**32, allow_nan=False)
NUMBERS = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
STEPS = st.one_of(st.sampled_from([0.1, 0.5, 1.0, 5.0, 100.0]), st.floats(0.001, 1000.0))
WINDOWS = st.one_of(st.sampled_from([1.0, 60.0, 900.0, 3600.0, 86400.0]), st.floats(0.5, 1e6))
VALUES: st.SearchStrategy[Value] = st.one_of(
    NUMBERS, st.booleans(), st.text(max_size=5), st.binary(max_size=5)
)
NUMBER_POINTS = st.lists(st.tuples(TIMES, NUMBERS), max_size=40)
ANY_POINTS = st.lists(st.tuples(TIMES, VALUES), max_size=40)


@given(points=ANY_POINTS)
def test_exact_is_the_identity(points: list[Point]) -> None:
    assert minimise(points, Level.exact, step=None, window=None) == [
        (time, value, 1) for time, value in points
    ]


@given(points=ANY_POINTS, step=STEPS, window=WINDOWS)
def test_off_keeps_nothing(points: list[Point], step: float, window: float) -> None:
    assert minimise(points, Level.off, step=step, window=window) == []


@given(points=NUMBER_POINTS, step=STEPS)
def test_coarse_moves_a_number_by_at_most_half_a_step(points: list[Point], step: float) -> None:
    rounded = coarse(points, step)
    assert [time for time, _, _ in rounded] == [time for time, _ in points]
    for (_, value), (_, kept, count) in zip(points, rounded, strict=True):
        assert isinstance(value, float) and isinstance(kept, float) and count == 1
        assert abs(kept - value) <= step / 2 + 1e-9 * max(abs(value), step)


@given(points=ANY_POINTS, step=STEPS)
def test_coarse_is_idempotent(points: list[Point], step: float) -> None:
    once = coarse(points, step)
    assert coarse([(time, value) for time, value, _ in once], step) == once


@given(points=ANY_POINTS, window=WINDOWS)
def test_aggregate_gives_at_most_one_summary_per_window_stamped_at_its_start(
    points: list[Point], window: float
) -> None:
    summaries = aggregate(points, window)
    starts = [start for start, _, _ in summaries]
    assert starts == sorted(set(starts))
    windows = {time // window for time, _ in points}
    assert {start for start in starts} <= {key * window for key in windows}
    assert sum(count for _, _, count in summaries) <= len(points)


@given(points=NUMBER_POINTS, window=WINDOWS)
def test_each_mean_lies_within_its_windows_values(points: list[Point], window: float) -> None:
    members: dict[float, list[float]] = {}
    for time, value in points:
        assert isinstance(value, float)
        members.setdefault((time // window) * window, []).append(value)
    summaries = aggregate(points, window)
    assert len(summaries) == len(members)
    for start, mean, count in summaries:
        values = members[start]
        assert isinstance(mean, float) and count == len(values)
        assert min(values) <= mean <= max(values)
        assert all(start <= time for time, _ in points if (time // window) * window == start)


@given(points=ANY_POINTS, window=WINDOWS, data=st.data())
def test_aggregate_does_not_depend_on_the_order_of_the_readings(
    points: list[Point], window: float, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(points))
    assert aggregate(shuffled, window) == aggregate(points, window)


@given(points=st.lists(st.tuples(TIMES, st.booleans()), min_size=1, max_size=40))
def test_a_boolean_summary_is_the_share_that_were_true(points: list[Point]) -> None:
    [(start, share, count)] = aggregate(points, 2.0**33)
    assert (start, count) == (0.0, len(points))
    assert share == sum(1 for _, value in points if value) / len(points)


HOUR = 3600.0
T = 1_790_002_800.0  # on the hour


@pytest.mark.parametrize(
    ("values", "level", "expected"),
    [
        # numbers (a SenML sum arrives as a number too)
        ([1234.0], Level.coarse, [1200.0]),
        ([1250.0, 1350.0], Level.coarse, [1200.0, 1400.0]),  # half to even
        ([432.0, 461.0], Level.aggregate, [446.5]),
        # booleans: nothing finer to round away; a summary is the share that were true
        ([True, False], Level.coarse, [True, False]),
        ([True, False, True, True], Level.aggregate, [0.75]),
        ([True, 3.0], Level.aggregate, [2.0]),  # a boolean counts as 1 beside numbers
        # text: cannot be rounded; a summary is the most frequent text, ties in sort order
        (["open"], Level.coarse, []),
        (["open", "shut", "open"], Level.aggregate, ["open"]),
        (["shut", "open"], Level.aggregate, ["open"]),
        # data: neither rounded nor summarised
        ([b"\x01"], Level.coarse, []),
        ([b"\x01", b"\x01"], Level.aggregate, []),
        # a window that mixes kinds, or holds a reading without a value, has no summary
        (["open", 1.0], Level.aggregate, []),
        ([1.0, None], Level.aggregate, []),
        ([None], Level.coarse, []),
        # every level keeps every kind exactly at exact
        ([1.5, True, "open", b"\x01"], Level.exact, [1.5, True, "open", b"\x01"]),
    ],
)
def test_each_kind_of_value_at_each_level(
    values: list[Value | None], level: Level, expected: list[Value]
) -> None:
    points = [(T + 60 * index, value) for index, value in enumerate(values)]
    kept = minimise(points, level, step=100.0, window=HOUR)
    assert [value for _, value, _ in kept] == expected
    if level == Level.aggregate and kept:
        assert [(start, count) for start, _, count in kept] == [(T, len(values))]


def test_a_mean_of_the_largest_floats_does_not_overflow() -> None:
    largest = sys.float_info.max
    assert aggregate([(0.0, largest), (1.0, largest)], HOUR) == [(0.0, largest, 2)]


@pytest.mark.parametrize(
    ("level", "step", "window"), [(Level.coarse, None, HOUR), (Level.aggregate, 5.0, None)]
)
def test_a_level_without_its_step_or_window_withholds_rather_than_keeps_exact(
    level: Level, step: float | None, window: float | None
) -> None:
    assert minimise([(T, 1.0), (T + 1, True)], level, step=step, window=window) == []


def test_a_word_that_is_not_a_level_is_refused() -> None:
    with pytest.raises(PolicyError, match="the levels are: exact, coarse, aggregate, off"):
        minimise([(T, 1.0)], "fine", step=None, window=None)  # type: ignore[arg-type]


def test_the_manifest_spells_the_levels_and_they_run_from_most_to_least_detail() -> None:
    assert [level.value for level in Level] == ["exact", "coarse", "aggregate", "off"]
    assert Level("coarse") is Level.coarse


def test_a_device_is_told_its_level_in_the_manifest_word() -> None:
    def policy(level: Level | str) -> bytes:
        decision = StreamDecision(1, True, True, level, None, "alex", 5.0, HOUR)  # type: ignore[arg-type]
        return DevicePolicy("band", {"heart_rate": decision}).to_json()

    assert policy(Level.coarse) == policy("coarse")
    assert b'"level":"coarse"' in policy(Level.coarse)
