"""Stream helpers the vault's streaming work shares: a background worker and the one
hashing sink (receiving a share, the deep check)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["HashSink", "Worker"]


class Worker:
    """Runs `fn(chunk)` for each chunk on one background thread, in order.

    Receiving a big share does three things to every byte: decrypt (this thread), hash
    the plaintext and write the payload copy. hashlib and os.write release the GIL, so
    the other two run beside the decryption on another core. The queue is bounded, so
    memory stays constant (`depth` chunks of 64 KiB).
    """

    def __init__(self, fn: Callable[[bytes], Any], depth: int = 32) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(depth)
        self._fn = fn
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="strongroom-receive", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    self._fn(item)
                except BaseException as exc:  # re-raised on the caller's thread
                    self._error = exc

    def put(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(data)

    def close(self) -> None:
        """Wait for every queued chunk; re-raise the first error the worker met."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


class HashSink(io.RawIOBase):
    """A writable stream that only hashes (SHA-256) what is written: where a received
    share's plaintext goes, and a file's contents in the deep check; never stored.

    Up to 1 MiB is hashed on the caller's thread when `digest` is called; more is handed
    to a `Worker` in 1 MiB batches, so hashing a big file runs beside its decryption on
    another core. Call `digest` once at the end, or `abort` on an error."""

    _BATCH = 1024 * 1024  # hand over 1 MiB at a time: few queue operations per GiB

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._worker: Worker | None = None  # started by the first full batch
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        # Copied: the decryptor reuses its output buffer for the next chunk.
        self._buf += b
        if len(self._buf) >= self._BATCH:
            if self._worker is None:
                self._worker = Worker(self._sha.update, depth=4)
            self._worker.put(bytes(self._buf))
            self._buf.clear()
        return len(memoryview(b))

    def digest(self) -> bytes:
        if self._worker is None:
            self._sha.update(self._buf)
        else:
            if self._buf:
                self._worker.put(bytes(self._buf))
            self._worker.close()
        self._buf.clear()
        return self._sha.digest()

    def abort(self) -> None:
        if self._worker is not None:
            with contextlib.suppress(BaseException):
                self._worker.close()
