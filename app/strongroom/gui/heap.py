"""Keep Python's cycle collector away from the moments the GUI thread must be quick.

A full (generation 2) collection walks every tracked object. With the window built and
its modules loaded that is ~57,000 objects, and one full collection took 25–37 ms on the
GUI thread here; one of them regularly landed inside the click that starts a job
(`benchmarks/gui_responsiveness.py` saw 30–40 ms at every add's start, and 100–220 ms
when the workers kept both cores busy). Almost all of those objects live as long as the
window or the open session, so walking them again and again finds nothing.

`settle()` freezes (`gc.freeze`) everything alive at a quiet moment (after start-up and
after an unlock has loaded every page): later collections walk only objects made after
it (a full collection right after took 0.0 ms). Frozen objects are still freed by
reference counting; only a garbage cycle among them waits until `release()`, which
locking a vault calls before it drops the session's objects, followed by
`settle(collect=True)` — a full collection then, while the unlock screen waits for a
passphrase, rather than during an unlock or the start of a job.
"""

from __future__ import annotations

import gc

__all__ = ["release", "settle", "settle_after_load"]


def settle(*, collect: bool = False) -> None:
    """Leave everything alive out of future collections (`collect`: collect first)."""
    if collect:
        gc.collect()
    gc.freeze()


def release() -> None:
    """Let the collector see every object again (before many of them become garbage)."""
    gc.unfreeze()


def settle_after_load(count: int) -> None:
    """After a model loaded `count` records: freeze them if there are many.

    100,000 file records or a million history entries made every full collection walk
    all of them with the GIL held (90-110 ms stalls); dropping a record still frees it
    at once."""
    if count >= 1000:
        settle()
