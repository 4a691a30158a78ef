"""age's ASCII armor: strict PEM (RFC 7468) around a binary age file, written and read as
a stream, and the detection of armored input."""

from __future__ import annotations

import binascii
from typing import BinaryIO

from strongroom.crypto.streams import write_all as _write_all

from .common import _ARMOR_BEGIN, _ARMOR_END, MAX_HEADER_SIZE, ArmorError


class _ArmorWriter:
    """Writes strict PEM (RFC 7468): padded base64 in 64-column lines."""

    _BLOCK = 48 * 1024  # a whole number of 48-byte groups, i.e. of full 64-column lines

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self._pending = bytearray()
        _write_all(dst, _ARMOR_BEGIN + b"\n")

    def write(self, data: bytes | memoryview) -> int:
        self._pending += data
        if len(self._pending) >= self._BLOCK:
            whole = len(self._pending) - len(self._pending) % 48
            self._emit(self._pending[:whole])
            del self._pending[:whole]
        return len(data)

    def _emit(self, data: bytes | bytearray) -> None:
        text = binascii.b2a_base64(data, newline=False)
        lines = b"".join(text[i : i + 64] + b"\n" for i in range(0, len(text), 64))
        _write_all(self._dst, lines)

    def close(self) -> None:
        if self._pending:
            self._emit(self._pending)
            self._pending.clear()
        _write_all(self._dst, _ARMOR_END + b"\n")


class _ArmorReader:
    """Decodes strict PEM armor as a binary stream (``readline``, ``readinto``).

    Every line but the last is exactly 64 columns; base64 is padded and canonical; only
    whitespace may follow the end line. LF and CRLF endings are accepted, not mixed.
    """

    _MAX_TRAILING = 1024

    def __init__(self, src: BinaryIO, eol: bytes) -> None:
        self._src = src
        self._eol = eol
        self._buf = bytearray()
        self._pos = 0
        self._done = False
        self._short_seen = False

    def _line(self) -> bytes:
        line = self._src.readline(64 + len(self._eol) + 1)
        if line == _ARMOR_END:
            # The end line may be the last bytes of the file without a line ending, as age
            # accepts; `_finish` then reads nothing more. Any other unterminated line is a
            # truncated file.
            return line
        if not line.endswith(self._eol) or (self._eol == b"\n" and line.endswith(b"\r\n")):
            raise ArmorError("armored file is truncated or has a bad line")
        return line[: -len(self._eol)]

    def _fill(self) -> None:
        lines: list[bytes] = []
        # Decode many lines at once: per-line Python work dominates otherwise.
        while not self._done and len(lines) < 1024:
            line = self._line()
            if line == _ARMOR_END:
                self._finish()
                break
            if self._short_seen:
                raise ArmorError("armor line after a short line")
            if not line or len(line) > 64:
                raise ArmorError("armor lines must be 64 columns (the last may be shorter)")
            if len(line) < 64 or line.endswith(b"="):
                self._short_seen = True
            lines.append(line)
        if lines:
            text = b"".join(lines)
            try:
                data = binascii.a2b_base64(text, strict_mode=True)
            except binascii.Error:
                raise ArmorError("armor contains invalid base64") from None
            if binascii.b2a_base64(data, newline=False) != text:
                raise ArmorError("armor base64 is not canonical")
            del self._buf[: self._pos]
            self._pos = 0
            self._buf += data

    def _finish(self) -> None:
        self._done = True
        rest = self._src.read(self._MAX_TRAILING + 1)
        if len(rest) > self._MAX_TRAILING or rest.strip(b" \t\r\n"):
            raise ArmorError("unexpected data after the armor end line")

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self._buf.find(b"\n", self._pos)
            avail = len(self._buf) - self._pos
            if end >= 0 and (limit < 0 or end - self._pos < limit):
                line = bytes(self._buf[self._pos : end + 1])
                break
            if self._done or 0 <= limit <= avail:
                size = avail if limit < 0 else min(avail, limit)
                line = bytes(self._buf[self._pos : self._pos + size])
                break
            self._fill()
        self._pos += len(line)
        return line

    def readinto(self, buf: memoryview) -> int:
        while len(self._buf) - self._pos == 0 and not self._done:
            self._fill()
        n = min(len(buf), len(self._buf) - self._pos)
        buf[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n


def _open_source(src: BinaryIO) -> tuple[BinaryIO, bytes]:
    """Detect armor. Returns the binary stream to read and its already-read first line."""
    line = src.readline(len(_ARMOR_BEGIN) + 3)
    skipped = 0
    # Whitespace is allowed before an armored file, never before a binary one.
    while line and not line.strip(b" \t\r\n"):
        skipped += len(line)
        if skipped > 1024:
            raise ArmorError("too much leading whitespace")
        line = src.readline(len(_ARMOR_BEGIN) + 3)
    if line.rstrip(b"\r\n") == _ARMOR_BEGIN:
        eol = line[len(_ARMOR_BEGIN) :]
        if eol not in (b"\n", b"\r\n"):
            raise ArmorError("malformed armor begin line")
        reader = _ArmorReader(src, eol)
        return reader, b""  # type: ignore[return-value]
    if skipped:
        raise ArmorError("leading whitespace before a file that is not armored")
    if line.startswith(b"-----"):
        raise ArmorError("not an age armored file (unexpected PEM label)")
    if not line.endswith(b"\n"):
        # The version line is longer than what we peeked: read the rest of it.
        line += src.readline(MAX_HEADER_SIZE - len(line))
    return src, line
