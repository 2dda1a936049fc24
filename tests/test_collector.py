"""The cycle collector's pause: off inside, back on after, however the block ends."""

from __future__ import annotations

import gc

import pytest

from sscmatch.collector import paused_collector


def test_paused_inside_and_resumed_after_even_on_error() -> None:
    assert gc.isenabled()
    with paused_collector():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_collector():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_nested_pauses_resume_only_at_the_outermost() -> None:
    with paused_collector():
        with paused_collector():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with paused_collector():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_as_a_decorator() -> None:
    @paused_collector()
    def work() -> bool:
        return gc.isenabled()

    assert work() is False
    assert gc.isenabled()
