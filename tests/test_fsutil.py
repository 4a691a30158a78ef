"""The durability helpers that objects, exports and shares are written through."""

from __future__ import annotations

import os

from strongroom.vault import fsutil


def test_writeback_file_passes_data_through_and_starts_writeback_per_range(tmp_path, monkeypatch):
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(fsutil, "WRITEBACK_EVERY", 1000)
    monkeypatch.setattr(fsutil, "start_writeback", lambda fd, off, n: started.append((off, n)))
    path = tmp_path / "out.bin"
    data = os.urandom(3500)
    with open(path, "wb", buffering=0) as raw:
        w = fsutil.WritebackFile(raw)
        for i in range(0, len(data), 300):
            assert w.write(data[i : i + 300]) == len(data[i : i + 300])
    assert path.read_bytes() == data
    # Every range is asked for once, in order, as soon as 1000 new bytes are written.
    assert started == [(0, 1200), (1200, 1200), (2400, 1100)]


def test_start_writeback_is_harmless_on_any_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    with open(path, "rb+") as f:
        fsutil.start_writeback(f.fileno(), 0, 0)  # a hint: no error, no change
    assert path.read_bytes() == b"x" * 10
