"""packaging/install-system-deps.sh: its library table cannot drift from what Qt links, it
sees libraries that are present, and it picks the package name this release knows.

`make test-fresh` (packaging/test-fresh.sh) checks the same end to end in a fresh chroot;
these tests are the fast part, run by `make test`.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "packaging" / "install-system-deps.sh"


def _pyside_dir() -> Path:
    import PySide6

    return Path(PySide6.__file__).resolve().parent


def _qt_files() -> list[Path]:
    """QtCore, every Qt module the app imports, and the xcb and offscreen platform plugins."""
    modules = set()
    for source in (ROOT / "app").rglob("*.py"):
        modules.update(re.findall(r"PySide6\.(Qt\w+)", source.read_text(encoding="utf-8")))
    assert {"QtCore", "QtGui", "QtWidgets"} <= modules
    base = _pyside_dir()
    files = [base / "Qt" / "lib" / "libQt6Core.so.6"]
    files += [base / f"{m}.abi3.so" for m in sorted(modules)]
    files += [base / "Qt" / "plugins" / "platforms" / f"libq{p}.so" for p in ("xcb", "offscreen")]
    for f in files:
        assert f.is_file(), f
    return files


@functools.cache
def _ldd_system_libraries() -> dict[str, str | None]:
    """soname -> path (None when `ldd` says "not found") for every library outside the wheel."""
    base = str(_pyside_dir().parent)  # PySide6 and shiboken6 carry their own Qt
    found: dict[str, str | None] = {}
    for f in _qt_files():
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            m = re.match(r"\s*(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$", line)
            if not m:
                continue  # linux-vdso, the dynamic loader
            soname, target = m.groups()
            if target == "not found":
                found.setdefault(soname, None)
            elif not os.path.realpath(target).startswith(base):
                found[soname] = target
    assert "libglib-2.0.so.0" in found and "libxcb.so.1" in found
    return found


def _table(env: dict[str, str] | None = None) -> dict[str, list[str]]:
    out = subprocess.run(
        ["bash", str(SCRIPT), "--list"], capture_output=True, text=True, check=True, env=env
    ).stdout
    return {soname: alts.split("|") for soname, alts in (line.split() for line in out.splitlines())}


def test_table_covers_every_library_qt_links():
    """Every library ldd lists for QtCore, the app's Qt modules and the xcb plugin (found or
    not) is in the install script's table: a Qt upgrade linking a new one fails here."""
    missing = sorted(set(_ldd_system_libraries()) - set(_table()))
    assert missing == [], f"add to LIBS in packaging/install-system-deps.sh: {missing}"


def test_table_includes_what_a_fresh_minbase_lacks():
    table = _table()
    for soname, package in {
        "libglib-2.0.so.0": "libglib2.0-0",
        "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
        "libxcb-cursor.so.0": "libxcb-cursor0",
        "libxcb-icccm.so.4": "libxcb-icccm4",
        "libxcb-keysyms.so.1": "libxcb-keysyms1",
        "libxcb-shape.so.0": "libxcb-shape0",
        "libxcb-xkb.so.1": "libxcb-xkb1",
        "libxcb-image.so.0": "libxcb-image0",
        "libxcb-render.so.0": "libxcb-render0",
        "libxcb-render-util.so.0": "libxcb-render-util0",
        "libxcb-util.so.1": "libxcb-util1",
    }.items():
        assert package in table[soname], soname


def _dpkg_owners(paths: list[str]) -> dict[str, str]:
    """path -> owning package, by one `dpkg -S` over every spelling of each path."""
    spellings: dict[str, str] = {}
    for path in paths:
        for p in (path, os.path.realpath(path)):
            # merged /usr: dpkg may know either spelling
            for q in (p, p.removeprefix("/usr") if p.startswith("/usr/") else "/usr" + p):
                spellings[q] = path
    r = subprocess.run(["dpkg", "-S", *spellings], capture_output=True, text=True)
    owners: dict[str, str] = {}
    for line in r.stdout.splitlines():
        package, _, spelled = line.partition(": ")
        if spelled in spellings:
            owners[spellings[spelled]] = package.split(":")[0]
    return owners


def test_table_packages_are_the_ones_dpkg_says_ship_them():
    """For the libraries installed here, the table names the package dpkg says owns them."""
    if shutil.which("dpkg") is None:
        pytest.skip("not a dpkg system")
    table = _table()
    installed = {s: p for s, p in _ldd_system_libraries().items() if p is not None}
    owners = _dpkg_owners(list(installed.values()))
    wrong = {}
    for soname, path in installed.items():
        assert path in owners, f"dpkg does not know {path}"
        if owners[path] not in table[soname]:
            wrong[soname] = (owners[path], table[soname])
    assert wrong == {}


# ---- running the script against fake system tools -------------------------------------------


def _write_tool(bindir: Path, name: str, body: str) -> None:
    path = bindir / name
    path.write_text("#!/bin/bash\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _fake_system(tmp_path: Path, sonames: list[str], *, filler_lines: int) -> dict[str, str]:
    """A PATH whose ldconfig lists `sonames` (for this machine's architecture), then
    `filler_lines` more lines; age/Xvfb/xauth exist; apt-get and apt-cache log their calls."""
    real = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    libc = next(line for line in real.splitlines() if line.split()[:1] == ["libc.so.6"])
    arch = libc.split()[1]
    lines = [f"{len(sonames) + 1} libs found in cache `/etc/ld.so.cache'", libc]
    lines += [f"\t{s} {arch} => /usr/lib/fake/{s}" for s in sonames if s != "libc.so.6"]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (tmp_path / "ldcache.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _write_tool(
        bindir,
        "ldconfig",
        f'cat "{tmp_path}/ldcache.txt"\n'
        f"for ((i = 0; i < {filler_lines}; i++)); do "
        f'echo "\tlibfiller$i.so.0 {arch} => /usr/lib/fake/libfiller$i.so.0"; done',
    )
    for tool in ("age", "age-keygen", "Xvfb", "xvfb-run", "xauth"):
        _write_tool(bindir, tool, "exit 0")
    log = tmp_path / "calls.log"
    _write_tool(bindir, "apt-get", f'echo "apt-get $*" >> "{log}"')
    _write_tool(bindir, "sudo", f'echo "sudo $*" >> "{log}"; exit 1')
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}


def _all_sonames() -> list[str]:
    """Everything the old and the new script look for, and everything Qt links."""
    old = ["libEGL.so.1", "libxkbcommon.so.0", "libfontconfig.so.1", "libdbus-1.so.3", "libGL.so.1"]
    return sorted(set(old) | set(_ldd_system_libraries()))


def test_present_libraries_are_not_reported_missing_when_ldconfig_is_cut_off(tmp_path):
    """`ldconfig -p | grep -q` under pipefail: grep stops reading at the first match,
    ldconfig dies of SIGPIPE, and a library that is there was reported missing. With a long
    linker cache every library listed up front must still count as present."""
    env = _fake_system(tmp_path, _all_sonames(), filler_lines=20000)
    r = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env)
    calls = (tmp_path / "calls.log").read_text() if (tmp_path / "calls.log").exists() else ""
    assert (r.returncode, calls, r.stdout) == (0, "", "")


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        ({"libglib2.0-0": "2.74.6-2", "libglib2.0-0t64": None}, "libglib2.0-0"),  # Debian 12
        ({"libglib2.0-0": "(none)", "libglib2.0-0t64": "2.84.4-3"}, "libglib2.0-0t64"),  # 13
    ],
)
def test_missing_library_installs_the_package_name_this_release_has(tmp_path, candidates, expected):
    """A missing libglib installs libglib2.0-0 on Debian 12 and libglib2.0-0t64 where the
    64-bit time_t transition renamed it; apt waits for another apt's lock instead of failing."""
    sonames = [s for s in _all_sonames() if s not in ("libglib-2.0.so.0", "libgthread-2.0.so.0")]
    env = _fake_system(tmp_path, sonames, filler_lines=0)
    policy = "\n".join(
        f'  {name}) echo "{name}:"; echo "  Candidate: {cand}" ;;'
        for name, cand in candidates.items()
        if cand is not None
    )
    bindir = Path(env["PATH"].split(":")[0])
    _write_tool(bindir, "apt-cache", f'[ "$1" = policy ] || exit 1\ncase "$2" in\n{policy}\nesac')
    if os.geteuid() != 0:
        _write_tool(bindir, "sudo", f'echo "sudo" >> "{tmp_path}/calls.log"; exec "$@"')

    dry = subprocess.run(
        ["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True, env=env, check=True
    )
    assert dry.stdout.strip() == "missing: libglib2.0-0t64|libglib2.0-0"
    assert not (tmp_path / "calls.log").exists()

    subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, check=True)
    calls = [
        c for c in (tmp_path / "calls.log").read_text().splitlines() if c.startswith("apt-get")
    ]
    assert calls == [
        "apt-get -o DPkg::Lock::Timeout=600 update -qq",
        f"apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends {expected}",
    ]


def test_apt_update_waits_while_another_apt_holds_the_lists_lock(tmp_path):
    """apt-get update ignores DPkg::Lock::Timeout for its lists lock (apt 2.6) and fails at
    once when another apt runs; the script retries it instead of failing the build."""
    sonames = [s for s in _all_sonames() if s != "libxcb-icccm.so.4"]
    env = _fake_system(tmp_path, sonames, filler_lines=0)
    bindir = Path(env["PATH"].split(":")[0])
    count = tmp_path / "update-count"
    log = tmp_path / "calls.log"
    _write_tool(
        bindir,
        "apt-get",
        f'echo "apt-get $*" >> "{log}"\n'
        'if [[ " $* " == *" update "* ]]; then\n'
        f'  n=$(( $(cat "{count}" 2>/dev/null || echo 0) + 1 )); echo $n > "{count}"\n'
        "  if [ $n -le 2 ]; then\n"
        '    echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 1" >&2\n'
        "    exit 100\n"
        "  fi\n"
        "fi",
    )
    _write_tool(bindir, "apt-cache", 'echo "$2:"; echo "  Candidate: 1.0"')
    env["STRONGROOM_APT_RETRY_SECONDS"] = "0"
    r = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "Waiting for another apt to finish" in r.stdout
    calls = log.read_text().splitlines()
    assert calls[-1].endswith("install -y -qq --no-install-recommends libxcb-icccm4")
    assert len([c for c in calls if " update " in c + " "]) == 3
