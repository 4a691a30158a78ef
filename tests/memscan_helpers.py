"""Scan another process's memory for known byte strings (the key-material test).

The scanner runs in the test process and reads the child's memory through
/proc/PID/mem, so the needles it searches for never enter the scanned process. Only
writable private mappings are read (heap, anonymous, stacks, libraries' data): key bytes
are never in read-only or file-backed text."""

from __future__ import annotations

import os
import re


def writable_regions(pid: int) -> list[tuple[int, int, str]]:
    """(start, end, name) of each readable, writable mapping of `pid`."""
    out = []
    with open(f"/proc/{pid}/maps", encoding="ascii", errors="replace") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            addr, perms = parts[0], parts[1]
            name = parts[5].strip() if len(parts) > 5 else ""
            if not perms.startswith("rw") or name in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            start, end = (int(x, 16) for x in addr.split("-"))
            out.append((start, end, name))
    return out


def find_in_process(pid: int, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """For each needle name, the mappings of `pid` where its bytes were found."""
    found: dict[str, list[str]] = {name: [] for name in needles}
    pattern = re.compile(b"|".join(re.escape(n) for n in needles.values()))
    by_value = {v: k for k, v in needles.items()}
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    try:
        for start, end, name in writable_regions(pid):
            step, overlap = 1 << 22, 256
            pos = start
            while pos < end:
                n = min(step + overlap, end - pos)
                try:
                    data = os.pread(fd, n, pos)
                except OSError:
                    break
                for m in pattern.finditer(data):
                    where = f"{name or 'anonymous'}@{pos + m.start():#x}"
                    if where not in found[by_value[m.group()]]:
                        found[by_value[m.group()]].append(where)
                pos += step
    finally:
        os.close(fd)
    return found
