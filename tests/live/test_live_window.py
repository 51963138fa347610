"""Window: a bounded rollover window mirrored into a ColumnDataSource with few, small messages."""

from __future__ import annotations

import threading

import pytest
from bokeh.document import Document
from bokeh.document.events import ColumnDataChangedEvent, ColumnsPatchedEvent, ColumnsStreamedEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from mtdata.errors import ValidationException
from mtdata.live import Window


def watched(window: Window) -> list[object]:
    """The document events the window's source causes from now on (what a browser would receive)."""
    doc = Document()
    doc.add_root(window.source)
    events: list[object] = []
    doc.on_change(lambda event: events.append(event))
    return events


def shown(window: Window) -> dict[str, list]:
    return {k: list(v) for k, v in window.source.data.items()}


def bar(i: int) -> dict[str, list]:
    return {"time": [i], "close": [float(i)]}


def test_closed_rows_roll_over_and_the_forming_row_comes_last():
    window = Window(("time", "close"), rollover=3)
    for i in range(5):
        window.stream(bar(i))
    window.patch({"time": 5, "close": 5.5})
    assert window.data() == {"time": [2, 3, 4, 5], "close": [2.0, 3.0, 4.0, 5.5]}
    assert len(window) == 4
    assert window.rollover == 3


def test_a_forming_row_change_is_one_patch_of_the_last_row():
    window = Window(("time", "close"), rollover=10)
    window.stream({"time": [0, 1], "close": [0.0, 1.0]})
    window.patch({"time": 2, "close": 2.0})
    events = watched(window)
    assert window.apply()
    assert [type(e) for e in events] == [ColumnsStreamedEvent]
    events.clear()
    for price in (2.1, 2.2, 2.3):
        window.patch({"time": 2, "close": price})
    assert window.apply()
    assert [type(e) for e in events] == [ColumnsPatchedEvent]
    assert events[0].patches == {"time": [(2, 2)], "close": [(2, 2.3)]}
    assert shown(window) == window.data()


def test_closing_the_forming_bar_patches_it_and_streams_only_the_new_rows():
    window = Window(("time", "close"), rollover=10)
    window.patch({"time": 0, "close": 0.5})
    window.apply()
    events = watched(window)
    window.stream({"time": [0, 1], "close": [0.9, 1.0]})
    window.patch({"time": 2, "close": 2.0})
    assert window.apply()
    assert [type(e) for e in events] == [ColumnsPatchedEvent, ColumnsStreamedEvent]
    assert events[1].data == {"time": [1, 2], "close": [1.0, 2.0]}
    assert shown(window) == window.data() == {"time": [0, 1, 2], "close": [0.9, 1.0, 2.0]}


def test_advance_patches_the_forming_row_at_its_time_closes_it_at_a_later_one_and_drops_an_earlier_one():
    window = Window(("time", "close"), rollover=2)
    assert window.forming is None
    assert window.advance({"time": 1, "close": 1.0})
    window.apply()
    events = watched(window)
    assert window.advance({"time": 1, "close": 1.5})  # the same time: in place
    assert window.apply()
    assert [type(e) for e in events] == [ColumnsPatchedEvent]
    assert window.advance({"time": 2, "close": 2.0})  # later: the row at 1 closed, 2 forming
    assert not window.advance({"time": 1, "close": 9.0})  # earlier than the forming row: dropped
    assert window.forming == {"time": 2, "close": 2.0}
    assert window.apply()
    assert shown(window) == window.data() == {"time": [1, 2], "close": [1.5, 2.0]}
    for t in (3, 4):
        window.advance({"time": t, "close": float(t)})
    assert window.data() == {"time": [2, 3, 4], "close": [2.0, 3.0, 4.0]}  # 2 closed rows kept, then the forming
    with pytest.raises(ValidationException):
        window.advance({"time": 5})


def test_hold_carries_the_forming_rows_values_on_with_one_row_however_often():
    window = Window(("time", "close"), rollover=10)
    assert not window.hold(5)  # nothing forming: nothing to carry
    window.advance({"time": 1, "close": 1.0})
    window.apply()
    assert not window.hold(1)  # not later
    for t in (2, 3, 4):
        assert window.hold(t)
    assert window.apply()
    assert shown(window) == window.data() == {"time": [1, 4], "close": [1.0, 1.0]}  # the change, the line's end
    events = watched(window)
    assert window.hold(6) and window.apply()
    assert [type(e) for e in events] == [ColumnsPatchedEvent]  # moving the end patches one row
    assert window.advance({"time": 7, "close": 2.0})  # a change: the hold closes where it reached
    assert window.hold(9)
    assert window.advance({"time": 9, "close": 3.0})  # a change at the hold's time replaces the hold
    window.apply()
    assert shown(window) == window.data() == {"time": [1, 6, 7, 9], "close": [1.0, 1.0, 2.0, 3.0]}


def test_more_new_rows_than_the_window_holds_replace_the_data_whole():
    window = Window(("time", "close"), rollover=3)
    window.stream(bar(0))
    window.apply()
    events = watched(window)
    window.stream({"time": [1, 2, 3, 4], "close": [1.0, 2.0, 3.0, 4.0]})
    assert window.apply()
    assert [type(e) for e in events] == [ColumnDataChangedEvent]
    assert shown(window) == window.data() == {"time": [2, 3, 4], "close": [2.0, 3.0, 4.0]}


def test_apply_without_changes_does_nothing():
    window = Window(("time", "close"))
    events = watched(window)
    assert not window.apply()
    window.stream({"time": [], "close": []})
    assert not window.apply()
    window.stream(bar(1))
    assert window.apply()
    assert not window.apply()
    assert len(events) == 1


operation = st.one_of(
    st.tuples(st.just("stream"), st.integers(1, 7)),
    st.tuples(st.just("patch"), st.floats(0, 10)),
    st.tuples(st.just("apply"), st.none()),
)


@settings(max_examples=150, deadline=None)
@given(rollover=st.integers(1, 6), operations=st.lists(operation, max_size=40))
def test_the_source_always_ends_equal_to_the_window(rollover: int, operations: list):
    window = Window(("time", "close"), rollover=rollover)
    watched(window)
    clock = 0
    for kind, arg in operations:
        if kind == "stream":
            window.stream({"time": list(range(clock, clock + arg)), "close": [float(clock)] * arg})
            clock += arg
        elif kind == "patch":
            window.patch({"time": clock, "close": arg})
        else:
            window.apply()
            assert shown(window) == window.data()
    window.apply()
    assert shown(window) == window.data()
    assert len(window.source.data["time"]) <= rollover + 1


def test_a_producer_thread_and_the_applying_thread_agree_at_the_end():
    window = Window(("time", "close"), rollover=50)
    done = threading.Event()

    def produce() -> None:
        for i in range(3000):
            if i % 10 == 9:
                window.stream(bar(i // 10))
            else:
                window.patch({"time": i // 10, "close": i / 10})
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    while not done.is_set():
        window.apply()
    producer.join()
    window.apply()
    assert shown(window) == window.data()
    assert window.data()["time"][-1] == 299


@pytest.mark.parametrize(
    ("columns", "rollover", "name"),
    [
        ((), 10, "columns"),
        ("ab", 10, "columns"),
        (("a", "a"), 10, "columns"),
        (("a", ""), 10, "columns"),
        (("a",), 0, "rollover"),
        (("a",), 1.5, "rollover"),
    ],
)
def test_bad_windows_are_refused(columns, rollover, name):
    with pytest.raises(ValidationException) as caught:
        Window(columns, rollover=rollover)
    assert caught.value.details[0]["parameter"] == name


def test_rows_must_have_exactly_the_columns_and_equal_lengths():
    window = Window(("time", "close"))
    with pytest.raises(ValidationException, match="rows must have exactly the columns"):
        window.stream({"time": [1]})
    with pytest.raises(ValidationException, match="equal length"):
        window.stream({"time": [1, 2], "close": [1.0]})
    with pytest.raises(ValidationException, match="row must have exactly the columns"):
        window.patch({"time": 1, "close": 1.0, "volume": 3})
    with pytest.raises(ValidationException):
        window.patch([1, 2])
    assert window.data() == {"time": [], "close": []}
