"""Best-effort zeroing of key material held in Python objects.

Python gives no control over where an immutable `bytes` or `str` lives or when its memory is
reused: a freed object's bytes stay in the allocator's arena until something else is
written there. So key material the vault holds is zeroed *in place* before it is dropped:
a `bytearray` (or `memoryview`) through the buffer protocol, and a `bytes` or ASCII `str`
the process made itself (a derived key, the SQL text that keys SQLCipher) through ctypes.

Rules for callers: wipe only objects this code created and nobody else will read again;
never a literal, an interned string or a one-byte `bytes` (CPython shares those). What is
wiped here cannot cover copies made inside C libraries (OpenSSL cleanses its own contexts
when they are freed; SQLCipher zeroes what it frees with `cipher_memory_security = ON`) nor
copies the kernel swapped out. See README, "Security notes".
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

__all__ = ["wipe"]


def wipe(*objs: Any) -> None:
    """Overwrite each object's contents with zeros (None and empty objects are skipped)."""
    for obj in objs:
        if obj is None:
            continue
        if isinstance(obj, bytearray):
            n = len(obj)
            if n:
                ctypes.memset((ctypes.c_char * n).from_buffer(obj), 0, n)
        elif isinstance(obj, memoryview):
            if not obj.readonly and obj.nbytes:
                obj.cast("B")[:] = bytes(obj.nbytes)
        elif type(obj) is bytes:
            n = len(obj)
            if n > 1:  # CPython shares the empty and one-byte objects
                header = sys.getsizeof(obj) - n - 1  # PyBytesObject: header, data, NUL
                ctypes.memset(id(obj) + header, 0, n)
        elif type(obj) is str:
            n = len(obj)
            if n > 1 and obj.isascii():  # compact ASCII: header, one byte a character, NUL
                header = sys.getsizeof(obj) - n - 1
                ctypes.memset(id(obj) + header, 0, n)
