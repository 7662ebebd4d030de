"""What the root does once the listeners are up."""

from __future__ import annotations

import gc

from duo import supervisor


def test_the_start_up_heap_is_frozen_out_of_full_collections() -> None:
    long_lived = {"filters": [[n] for n in range(1000)]}  # what start-up builds and keeps
    thresholds = gc.get_threshold()
    try:
        supervisor._freeze_start_up_heap()
        frozen = gc.get_freeze_count()
        assert frozen >= 1000
        tracked = {id(o) for o in gc.get_objects()}  # what a full collection walks
        assert id(long_lived) not in tracked and id(long_lived["filters"][0]) not in tracked
        assert gc.get_threshold() == supervisor.GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
