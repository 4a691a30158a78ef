"""The block pipeline under the payload: read, transform and write a stream in large
blocks, with the transform and an optional tap on worker threads, in constant memory."""

from __future__ import annotations

import contextlib
import mmap
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from strongroom.crypto.streams import write_all as _write_all

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor


def _read_full(src: BinaryIO, buf: memoryview) -> int:
    """Fill ``buf`` from ``src``; returns the count, short only at end of file."""
    got = 0
    size = len(buf)
    while got < size:
        n = src.readinto(buf[got:])
        if not n:
            break
        got += n
    return got


_BlockWork = Callable[[memoryview, int, memoryview, int, bool], int]


PIPELINE_DEPTH = 4
"""Blocks that may be in flight (transformed or hashed, not yet written) at once. One was
enough for the cipher alone; with a hash tap on a third thread, a deeper queue absorbs the
moments when one of the three waits for a core."""


def _fresh_buffer(size: int) -> memoryview:
    """A zeroed buffer whose pages the kernel provides on first touch.

    bytearray(size) zeroes its memory while holding the GIL, so the page faults of the
    pipeline's 14 MiB of new buffers happened with every other thread (the GUI's too)
    waiting; a late-tick trace of the GUI benchmark once caught the worker there. An
    anonymous mapping is touched first by readinto and by the AEAD calls, which release
    the GIL. (It did not remove the GUI stall outliers of PERFORMANCE.md.)
    """
    return memoryview(mmap.mmap(-1, size))


@dataclass
class _InFlight:
    index: int
    n: int
    block: memoryview
    out: memoryview
    job: Future[int]
    tapped: Future[None] | None


def _stream_blocks(
    src: BinaryIO,
    dst: BinaryIO,
    in_size: int,
    out_size: int,
    work: _BlockWork,
    on_block: Callable[[int, int], None],
    tap: Callable[[memoryview], None] | None = None,
) -> None:
    """Read ``src`` in blocks of ``in_size``, transform each with ``work``, write to ``dst``.

    ``work(block, n, out, index, final)`` fills ``out`` from the first ``n`` bytes of
    ``block`` and returns how much it wrote; only the ``final`` block may be short (or
    empty). Each block is read before the previous one is transformed, so ``final`` is
    known in time. ``on_block(index, n)`` runs on the calling thread after block ``index``
    is transformed and before it is written: progress reports and cancellation live there.
    ``tap(block)``, if given, sees every input block in order, before ``on_block``.

    More than one block is pipelined: a worker thread transforms blocks in order (the AEAD
    calls release the GIL), another runs the tap (hashlib releases it too), and this thread
    reads ahead and writes finished blocks in order, up to ``PIPELINE_DEPTH`` blocks in
    flight. ``PIPELINE_DEPTH + 1`` input and ``PIPELINE_DEPTH`` output buffers are reused,
    so memory stays constant. A payload of one block (every small file) runs here, without
    a thread.
    """
    cur = memoryview(bytearray(in_size))
    n = _read_full(src, cur)
    # A short first block is the whole payload (every small file): no second buffer, and
    # an output buffer sized for it (no transform grows a block by more than a full one).
    nxt = memoryview(bytearray(in_size)) if n == in_size else None
    m = _read_full(src, nxt) if nxt is not None else 0
    if m == 0:
        out = memoryview(bytearray(min(out_size, n + max(0, out_size - in_size))))
        o = work(cur, n, out, 0, True)
        if tap is not None:
            tap(cur[:n])
        on_block(0, n)
        _write_all(dst, out[:o])
        return
    assert nxt is not None
    _Pipeline(src, dst, work, on_block, tap).run((cur, n), (nxt, m), in_size, out_size)


class _Pipeline:
    """The threaded path of ``_stream_blocks``, for payloads of more than one block."""

    def __init__(
        self,
        src: BinaryIO,
        dst: BinaryIO,
        work: _BlockWork,
        on_block: Callable[[int, int], None],
        tap: Callable[[memoryview], None] | None,
    ) -> None:
        self.src, self.dst = src, dst
        self.work, self.on_block, self.tap = work, on_block, tap
        self.depth = PIPELINE_DEPTH
        self.in_size = 0
        self.free: list[memoryview] = []  # input buffers not in flight
        self.outs: list[memoryview] = []  # output buffers, used in turn
        self.flight: deque[_InFlight] = deque()

    def run(
        self,
        first: tuple[memoryview, int],
        second: tuple[memoryview, int],
        in_size: int,
        out_size: int,
    ) -> None:
        """Stream from the first two blocks, already read (the second not empty), to the end."""
        self.in_size = in_size
        self.free = [_fresh_buffer(in_size) for _ in range(self.depth - 1)]
        self.outs = [_fresh_buffer(out_size) for _ in range(self.depth)]
        # Imported here: only payloads of more than one block need threads, and
        # concurrent.futures (with logging) is ~5 ms of every CLI command's start-up otherwise.
        from concurrent.futures import ThreadPoolExecutor

        with contextlib.ExitStack() as stack:
            coder = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="age-payload"))
            tapper = None
            if self.tap is not None:
                tapper = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="age-tap"))
            # Leaving the executors waits for running jobs, so no buffer is dropped or reused
            # while a worker still uses it; on an error, queued jobs are cancelled first.
            try:
                self._feed(coder, tapper, first, second)
                while self.flight:
                    self._retire()
            except BaseException:
                for f in self.flight:
                    f.job.cancel()
                    if f.tapped is not None:
                        f.tapped.cancel()
                raise

    def _feed(
        self,
        coder: ThreadPoolExecutor,
        tapper: ThreadPoolExecutor | None,
        first: tuple[memoryview, int],
        second: tuple[memoryview, int],
    ) -> None:
        """Submit every block in order, reading one ahead; retire blocks to stay in depth."""
        (cur, n), (nxt, m) = first, second
        k = 0
        while True:
            final = m == 0
            out = self.outs[k % self.depth]
            job = coder.submit(self.work, cur, n, out, k, final)
            tapped = None if tapper is None else tapper.submit(self.tap, cur[:n])  # type: ignore[arg-type]
            self.flight.append(_InFlight(k, n, cur, out, job, tapped))
            if final:
                return
            if len(self.flight) >= self.depth:
                self._retire()
            cur, n = nxt, m
            nxt = self.free.pop()
            m = _read_full(self.src, nxt) if n == self.in_size else 0
            k += 1

    def _retire(self) -> None:
        """Wait for the oldest block in flight, report it, write it, free its buffer."""
        f = self.flight[0]
        written = f.job.result()
        if f.tapped is not None:
            f.tapped.result()
        self.on_block(f.index, f.n)
        _write_all(self.dst, f.out[:written])
        self.flight.popleft()
        self.free.append(f.block)
