"""Work around a reference-count bug in PySide6 6.12 on Python < 3.12.

Measured here with PySide6-Essentials 6.12.0 on CPython 3.11: every time Qt calls a Python
override that returns None (`QAbstractItemModel.data` for an unused role, `QRunnable.run`),
and every cross-thread `Signal.emit` (True) or `QCoreApplication.postEvent` (None), one
reference to that singleton is released without having been taken. On 3.12+ None, True
and False are immortal, so the bug is invisible there; on 3.11 the count reaches zero after
a few thousand calls and CPython aborts with "none_dealloc: deallocating None" (a table
view repainting does that within seconds). See tests/test_gui_pyside_guard.py.

pyproject.toml excludes 6.12.0, and 6.11.3 does not have the bug (measured: None's count
is unchanged after 2,000 such calls). The guard stays for an environment that installs an
affected 6.12.x anyway, and acts only there: PySide6 6.12 on CPython < 3.12.

The guard gives each singleton 2**40 extra references once, at import. Those objects are
never freed anyway (they are static), so the only effect is that the leak can no longer
reach zero: at a million lost references per second it would take 12 days.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["BOOST", "guard_singletons"]

BOOST = 1 << 40
_guarded = False


def guard_singletons() -> bool:
    """Raise the reference counts of None, True and False once; True if it did anything."""
    global _guarded
    if _guarded or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    import PySide6

    if tuple(PySide6.__version_info__[:2]) != (6, 12):
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every PyObject in CPython 3.11 (non-debug and
        # debug builds alike put it first). The GIL is held, so no other thread races us.
        count = ctypes.c_ssize_t.from_address(id(obj))
        count.value += BOOST
    _guarded = True
    return True
