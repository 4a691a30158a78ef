"""A dependency-free progress bar for stderr: bytes done / total, rate and ETA.

It draws only when its stream is a terminal, so scripts and pipes see nothing, and it
redraws at most ten times a second so that a fast operation never spends its time printing.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

from .output import human_size

__all__ = ["ProgressBar"]

_MIN_INTERVAL = 0.1  # seconds between redraws: ~10 per second is smooth and costs nothing


def _eta(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """One line on `stream` showing `done` of `total` units (bytes by default).

    Call `update(done)` as often as you like; `close()` ends the line. A disabled bar (stream
    not a terminal) accepts every call and draws nothing.
    """

    def __init__(
        self,
        label: str,
        total: int,
        stream: TextIO,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream
        self.enabled = _isatty(stream) if enabled is None else enabled
        self._clock = clock
        self._start = clock()
        self._last_draw = float("-inf")
        self._done = 0
        self._drawn = False

    def update(self, done: int, total: int | None = None) -> None:
        """Record progress; redraw if enough time has passed since the last redraw."""
        self._done = done
        if total is not None:
            self.total = total
        if not self.enabled:
            return
        now = self._clock()
        if now - self._last_draw >= _MIN_INTERVAL:
            self._last_draw = now
            self._draw(now)

    def close(self) -> None:
        """Draw the final state and end the line (only if anything was drawn)."""
        if self.enabled and self._drawn:
            self._draw(self._clock())
            self.stream.write("\n")
            self.stream.flush()

    def clear(self) -> None:
        """Erase the line without a final draw (for errors and cancellation)."""
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False

    def _draw(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self._done / elapsed
        total = max(self.total, self._done)
        frac = self._done / total if total else 1.0
        if rate > 0 and total > self._done:
            eta = f"ETA {_eta((total - self._done) / rate)}"
        else:
            eta = f"in {_eta(elapsed)}"
        stats = (
            f" {frac * 100:3.0f}% {human_size(self._done)}/{human_size(total)}"
            f" {human_size(int(rate))}/s {eta}"
        )
        width = shutil.get_terminal_size((80, 24)).columns - 1
        label = self.label
        bar_width = width - len(label) - len(stats) - 3
        if bar_width < 10:
            # Narrow terminal: drop the bar, then shorten the label, never wrap the line.
            line = (label + stats)[-width:]
        else:
            filled = int(bar_width * frac)
            line = f"{label} [{'#' * filled}{'.' * (bar_width - filled)}]{stats}"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self._drawn = True


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
