"""The cyclic garbage collector is paused during a run and resumed where messages are built."""

from __future__ import annotations

import gc
import weakref

from samen.stages.collector import collector_paused, collector_resumed


class Node:
    """An object that can be part of a reference cycle."""

    other: Node | None = None


def test_paused_then_restored() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_collects_what_the_block_makes_and_leaves_the_rest_frozen_meanwhile() -> None:
    with collector_paused():
        before = Node()
        before.other = before  # a cycle made while paused
        kept = weakref.ref(before)
        del before
        with collector_resumed():
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
            inside = Node()
            inside.other = inside
            gone = weakref.ref(inside)
            del inside
            gc.collect()
            assert gone() is None  # the block's cycles are collected
            assert kept() is not None  # what the run held is left alone
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
    gc.collect()
    assert kept() is None


def test_resumed_outside_a_pause_changes_nothing() -> None:
    with collector_resumed():
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0
    assert gc.isenabled()
