"""The cyclic garbage collector around a run's big batch of objects.

Reference counting frees almost everything a run makes; the cyclic collector only adds pauses
that grow with what the run holds (at 100,000 form rows: millions of objects, walked again by
every full collection). So a run pauses it, and lets it run only where cycles are made.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Inside collector_resumed(): middle-generation collections between two full ones (default 10).
OLD_COLLECTIONS = 100


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a batch (reference counting still frees).

    A run holds every cell of the form tab, the versions and the rows it writes: millions of
    objects, which each full collection walks; at 100,000 rows that was a tenth of the run.
    Steps that leave reference cycles (messages) run inside collector_resumed().
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def collector_resumed() -> Iterator[None]:
    """Let the collector run inside collector_paused(), on objects made from here on only.

    What the run holds so far is frozen (left out of collections), so a collection costs what
    the block makes, not what the run holds. Young collections (where a message's cycles die)
    run as usual; a full one waits for OLD_COLLECTIONS young ones instead of 10, as the block's
    own objects grow into the hundreds of thousands at 100,000 rows.
    """
    if gc.isenabled():  # not paused: nothing to resume
        yield
        return
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(thresholds[0], thresholds[1], OLD_COLLECTIONS)
    gc.enable()
    try:
        yield
    finally:
        gc.disable()
        gc.set_threshold(*thresholds)
        gc.unfreeze()
