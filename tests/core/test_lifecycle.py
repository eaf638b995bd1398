"""`with part:` starts a part and stops it again, whatever ends the block."""

from __future__ import annotations

import pytest

from goodthings.core.lifecycle import Lifecycle


class Recorder(Lifecycle):
    """A part that writes down what was done to it; it fails to start when told to."""

    def __init__(self, *, fail_to_start: bool = False) -> None:
        self.events: list[str] = []
        self._fail_to_start = fail_to_start

    def start(self) -> None:
        if self._fail_to_start:
            raise RuntimeError("no broker")
        self.events.append("start")

    def stop(self) -> None:
        self.events.append("stop")


def test_a_with_block_runs_between_start_and_stop() -> None:
    part = Recorder()
    with part as entered:
        assert entered is part
        part.events.append("work")
    assert part.events == ["start", "work", "stop"]


def test_a_block_that_raises_still_stops_the_part_and_the_error_goes_on() -> None:
    part = Recorder()
    with pytest.raises(ValueError, match="bad reading"), part:
        raise ValueError("bad reading")
    assert part.events == ["start", "stop"]


def test_a_part_that_fails_to_start_runs_no_block_and_is_not_stopped() -> None:
    part = Recorder(fail_to_start=True)
    ran = False
    with pytest.raises(RuntimeError, match="no broker"), part:
        ran = True
    assert not ran
    assert part.events == []


def test_a_part_must_say_how_it_starts_and_stops() -> None:
    class Half(Lifecycle):
        def start(self) -> None:
            pass

    with pytest.raises(TypeError, match="stop"):
        Half()  # type: ignore[abstract]
