"""Writing to byte streams and file descriptors (no paths, no vault)."""

from __future__ import annotations

import os
from typing import BinaryIO

__all__ = ["write_all"]


def write_all(dst: BinaryIO | int, data: bytes | memoryview) -> None:
    """Write all of ``data`` to a stream or a file descriptor.

    A raw (unbuffered) stream or a file descriptor may accept only part of one write; a
    buffered stream writes everything or raises. Raises OSError if nothing is accepted.
    """
    fd = dst if isinstance(dst, int) else None
    n = os.write(fd, data) if fd is not None else dst.write(data)  # type: ignore[union-attr]
    if n is None or n == len(data):
        return
    view = memoryview(data)
    while n < len(view):
        written = os.write(fd, view[n:]) if fd is not None else dst.write(view[n:])  # type: ignore[union-attr]
        if not written:
            raise OSError("the output stream accepted no data")
        n += written
