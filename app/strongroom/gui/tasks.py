"""Background work: the one way the GUI runs anything that may be slow.

`run_task(fn, on_done, on_error, on_progress)` runs `fn(ctx)` on a worker thread and
delivers its result, its exception or its progress reports back on the GUI thread.
`ctx.cancelled` is a zero-argument callable meant to be passed straight to the vault's
`cancel=` parameter; `ctx.progress(value)` reports progress. Every call returns a `Job`
that the jobs area shows (unless `quiet=True`) and that can be cancelled.

One error policy: a task's `on_error` says the failure where the person looks —
`say_error(show)` (the status line, a page's inline message), `warn_error(dialogs, parent,
title)` (a dialog: a failed action the person asked for must not fade away), or
`log_error(what)` (background work nobody asked for: a QR code, a details pane's history).
A task in the jobs area without one has its failure said there; a quiet one without one
(nothing else would show it) has it logged, as `log_error` does. `expected` (by default
`EXPECTED_ERRORS`) lists what a person or the machine can cause; anything else is a bug,
and `Job` logs it with its traceback before `on_error` says it, whichever way that is.

Tests install `SyncTaskRunner` (MusicBrainz Picard style): jobs run immediately, in order,
on the calling thread, so a test reads results right after the action that started them.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal, Slot

from strongroom.vault import VaultError

from . import heap
from .error_text import error_message

__all__ = [
    "EXPECTED_ERRORS",
    "Job",
    "SyncTaskRunner",
    "TaskContext",
    "TaskRunner",
    "ThreadTaskRunner",
    "log_error",
    "run_task",
    "runner",
    "say_error",
    "set_runner",
    "warn_error",
]

Callback = Callable[[Any], None]
log = logging.getLogger(__name__)

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (VaultError, OSError)
"""Failures a person or the machine can cause (a name taken, a wrong key, cancelled, a
damaged file, a full disk): said in plain words (`error_message`), not logged as bugs."""


_JUDGED = "_strongroom_judged"  # set on an exception once a job's policy looked at it


def _log_if_unexpected(
    what: str, exc: BaseException, expected: tuple[type[BaseException], ...] = EXPECTED_ERRORS
) -> None:
    """Log `exc` as a bug unless it is `expected` or its job's policy already judged it."""
    if getattr(exc, _JUDGED, False):
        return
    try:
        setattr(exc, _JUDGED, True)
    except AttributeError:
        pass  # an exception type with __slots__: judged again by a helper, at worst twice
    if not isinstance(exc, expected):
        # The type and the stack only: an exception's text may quote file contents or names.
        stack = "".join(traceback.format_tb(exc.__traceback__))
        log.error("%s failed with %s\n%s", what or "a task", type(exc).__name__, stack)


def say_error(show: Callable[[str], object], what: str = "") -> Callback:
    """`on_error` that says the failure in plain words through `show` (a status line, an
    inline message)."""

    def on_error(exc: BaseException) -> None:
        _log_if_unexpected(what, exc)
        show(error_message(exc))

    return on_error


def warn_error(dialogs: Any, parent: Any, title: str) -> Callback:
    """`on_error` that says the failure in a dialog titled `title` over `parent`."""

    def on_error(exc: BaseException) -> None:
        _log_if_unexpected(title, exc)
        dialogs.warn(parent, title, error_message(exc))

    return on_error


def log_error(what: str) -> Callback:
    """`on_error` for background work nobody asked for: nothing is shown (the page keeps
    what it had); an expected failure is logged briefly, anything else as a bug."""

    def on_error(exc: BaseException) -> None:
        if isinstance(exc, EXPECTED_ERRORS):
            log.info("%s failed: %s", what, type(exc).__name__)
        else:
            _log_if_unexpected(what, exc)

    return on_error


class TaskContext:
    """What a task function receives: a cancel flag and a progress reporter."""

    PROGRESS_INTERVAL = 0.05
    """Seconds between progress deliveries: the vault reports every 64 KiB chunk, and
    sixteen thousand queued events per GiB would only cost the GUI thread time."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._flag = job._cancel_flag
        self._last = 0.0

    def cancelled(self) -> bool:
        """True once the user asked to cancel; pass this as the vault's `cancel=`."""
        return self._flag.is_set()

    def progress(self, value: Any) -> None:
        """Report progress; delivered to `on_progress` on the GUI thread (throttled)."""
        now = time.monotonic()
        if now - self._last >= self.PROGRESS_INTERVAL:
            self._last = now
            self._job._signals.progress.emit(value)


class _JobSignals(QObject):
    # Emitted from the worker thread; connected to slots of the `Job`, which lives on the
    # GUI thread, so Qt queues each delivery onto the GUI thread's event loop.
    done = Signal(object)
    error = Signal(object)
    progress = Signal(object)


class Job(QObject):
    """A handle on one background task. Signals fire on the GUI thread."""

    progressed = Signal(object)
    finished = Signal()  # after on_done / on_error ran, whatever the outcome
    failed = Signal(object)

    def __init__(
        self,
        fn: Callable[[TaskContext], Any],
        on_done: Callback | None,
        on_error: Callback | None,
        on_progress: Callback | None,
        title: str,
        quiet: bool,
        cancellable: bool,
        expected: tuple[type[BaseException], ...] = EXPECTED_ERRORS,
    ) -> None:
        super().__init__()
        self.fn = fn
        self.expected = expected
        self.title = title
        self.quiet = quiet
        self.cancellable = cancellable
        self.is_finished = False
        self.error: BaseException | None = None
        self._on_done = on_done
        self._on_error = on_error
        self._on_progress = on_progress
        self._cancel_flag = threading.Event()
        self._signals = _JobSignals()
        self._signals.done.connect(self._deliver_done)
        self._signals.error.connect(self._deliver_error)
        self._signals.progress.connect(self._deliver_progress)

    def cancel(self) -> None:
        """Ask the task to stop at its next cancellation check."""
        self._cancel_flag.set()

    def execute(self) -> None:
        """Run `fn` here and now (on whatever thread calls this) and post the outcome."""
        try:
            result = self.fn(TaskContext(self))
        except BaseException as exc:  # delivered to on_error; never lost in a worker
            self._signals.error.emit(exc)
        else:
            self._signals.done.emit(result)

    @Slot(object)
    def _deliver_progress(self, value: Any) -> None:
        if self.is_finished:
            return
        if self._on_progress is not None:
            self._on_progress(value)
        self.progressed.emit(value)

    @Slot(object)
    def _deliver_done(self, result: Any) -> None:
        self.is_finished = True
        try:
            if self._on_done is not None:
                self._on_done(result)
        finally:
            self.finished.emit()

    @Slot(object)
    def _deliver_error(self, exc: BaseException) -> None:
        self.is_finished = True
        self.error = exc
        # A bug is logged here, whatever `on_error` does (a handler of its own included).
        _log_if_unexpected(self.title or getattr(self.fn, "__qualname__", ""), exc, self.expected)
        try:
            if self._on_error is not None:
                self._on_error(exc)
            self.failed.emit(exc)
        finally:
            self.finished.emit()


WORKER_NICE = 10
"""Scheduling priority (Linux nice value) of the threads that run jobs."""


def lower_thread_priority() -> None:
    """Make the calling thread yield the CPU to the GUI thread.

    On two cores, an unlock (Argon2id runs one thread per lane) or an add (a reader, an
    encryptor and a hasher) keeps every core busy, and the GUI thread waited behind them
    for up to 60-110 ms when it woke for a timer or an input event. At nice 10 the kernel
    runs it first; the jobs lose only what the GUI thread actually uses. Threads that a
    job starts (Argon2id's lanes, the vault's pipeline workers) inherit the value on
    Linux, where nice is per thread. Elsewhere Qt's per-thread priority does the same."""
    QThread.currentThread().setPriority(QThread.Priority.LowPriority)
    if sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < WORKER_NICE:
                os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICE)
        except OSError:
            pass  # not allowed here: jobs simply run at the GUI's priority


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        lower_thread_priority()
        self._job.execute()


class TaskRunner(QObject):
    """Starts jobs. `job_started` lets the jobs area show every non-quiet job."""

    job_started = Signal(object)
    #: True when jobs finish (and call back) before `start` returns: nothing to spread out.
    synchronous = False

    def __init__(self) -> None:
        super().__init__()
        self._live: set[Job] = set()

    def start(self, job: Job) -> Job:
        # Keep a reference until the job finishes: a Python-owned QObject collected while
        # its queued signals are pending would drop the result on the floor.
        self._live.add(job)
        job.finished.connect(lambda: self._live.discard(job))
        self.job_started.emit(job)
        self._dispatch(job)
        return job

    def _dispatch(self, job: Job) -> None:
        raise NotImplementedError

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until every started job finished its work (not its delivery)."""
        return True

    @property
    def active_jobs(self) -> list[Job]:
        return [job for job in self._live if not job.is_finished]


class ThreadTaskRunner(TaskRunner):
    """Runs jobs on a private QThreadPool."""

    GIL_SWITCH_INTERVAL = 0.002
    SETTLE_INTERVAL_MS = 250

    def __init__(self, max_threads: int = 4) -> None:
        super().__init__()
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        # Much vault work is pure Python (planning an add, building records). A worker
        # holds the GIL for up to the switch interval before the GUI thread may run; the
        # default 5 ms, stacked over a few busy workers on two cores, showed up as 100 ms
        # stalls in benchmarks/gui_responsiveness.py.
        sys.setswitchinterval(min(sys.getswitchinterval(), self.GIL_SWITCH_INTERVAL))
        # While a job in the jobs area runs, what is alive is left out of later cycle
        # collections (heap.settle) at its start and four times a second. Adding a folder
        # of 100,000 files keeps 100,000 plans and staged files alive for a minute; every
        # full collection walked all of them with the GIL held, on the worker: 38-72 ms,
        # growing with the folder (benchmarks/gui_responsiveness.py --folder-add
        # --trace-stalls). They are still freed by reference counting when the job ends;
        # only a garbage cycle made meanwhile waits for the next lock (heap.release).
        self._settle = QTimer(self)
        self._settle.setInterval(self.SETTLE_INTERVAL_MS)
        self._settle.timeout.connect(self._settle_if_busy)

    def _dispatch(self, job: Job) -> None:
        if not job.quiet and not self._settle.isActive():
            heap.settle()
            self._settle.start()
        self.pool.start(_Runnable(job))

    def _settle_if_busy(self) -> None:
        if any(not job.quiet for job in self.active_jobs):
            heap.settle()
        else:
            self._settle.stop()

    def wait_for_done(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)


class SyncTaskRunner(TaskRunner):
    """Runs each job at once on the calling thread; for tests."""

    synchronous = True

    def _dispatch(self, job: Job) -> None:
        job.execute()


_runner: TaskRunner | None = None


def runner() -> TaskRunner:
    """The process-wide runner (a `ThreadTaskRunner` unless a test installed another)."""
    global _runner
    if _runner is None:
        _runner = ThreadTaskRunner()
    return _runner


def set_runner(new: TaskRunner | None) -> TaskRunner | None:
    """Install `new` as the runner (None restores the default); returns the old one."""
    global _runner
    old, _runner = _runner, new
    return old


def run_task(
    fn: Callable[[TaskContext], Any],
    on_done: Callback | None = None,
    on_error: Callback | None = None,
    on_progress: Callback | None = None,
    *,
    title: str = "",
    quiet: bool = False,
    cancellable: bool = True,
    expected: tuple[type[BaseException], ...] = EXPECTED_ERRORS,
) -> Job:
    """Run `fn(ctx)` in the background; callbacks run later on the GUI thread.

    `quiet` jobs (quick reads) are not shown in the jobs area. Exceptions from `fn` go to
    `on_error` (the module's error policy); a job in the jobs area without one has its
    failure said there, a quiet one has it logged. An exception not of an `expected` type
    is a bug, logged with its traceback first.
    """
    if quiet and on_error is None:
        on_error = log_error(title or getattr(fn, "__qualname__", "a quiet task"))
    job = Job(fn, on_done, on_error, on_progress, title, quiet, cancellable, expected)
    return runner().start(job)
