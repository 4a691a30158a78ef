"""Two real Syncthing instances on loopback sharing one folder, for end-to-end tests.

The recipe of `shared/tools/syncthing-pair`, in Python so that a test starts and stops it:
each instance has its own home and ports (free ones, picked at start); discovery, relays,
NAT traversal, usage reports and upgrades are off; conflict copies are kept, so a conflict
shows up as ``NAME.sync-conflict-*.EXT`` as on a real machine. Every wait polls with a
deadline; nothing sleeps for a fixed time to "let it settle".
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FOLDER_ID = "strongroom-exchange"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float, what: str, every: float = 0.2):
    """Poll ``check`` until it returns something truthy; fail with ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def synced_files(folder: Path) -> dict[str, bytes]:
    """The files a user sees in an exchange folder (not Syncthing's own markers/temps)."""
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith((".syncthing.", ".stfolder", ".stignore"))
    }


@dataclass
class Instance:
    name: str
    home: Path
    folder: Path
    gui_port: int
    listen_port: int
    device_id: str = ""
    proc: subprocess.Popen | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.home / "syncthing.log"

    def api(self, path: str, method: str = "GET", body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.gui_port}{path}",
            data=data,
            method=method,
            headers={"X-API-Key": f"key-{self.name}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:  # loopback only
            text = resp.read()
        return json.loads(text) if text.strip() else None

    def connected(self) -> bool:
        try:
            conns = self.api("/rest/system/connections")["connections"]
        except OSError:
            return False
        return any(c.get("connected") for c in conns.values())

    def rescan(self) -> None:
        """Ask for a scan now (the file watcher would get there within seconds anyway)."""
        self.api(f"/rest/db/scan?folder={FOLDER_ID}", method="POST")

    def idle(self) -> bool:
        status = self.api(f"/rest/db/status?folder={FOLDER_ID}")
        return status["state"] == "idle" and status["needTotalItems"] == 0


class SyncthingPair:
    """``a.folder`` and ``b.folder`` are kept in sync by two Syncthing processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.a = Instance("a", root / "a" / "home", root / "a" / "exchange", *self._ports())
        self.b = Instance("b", root / "b" / "home", root / "b" / "exchange", *self._ports())

    @staticmethod
    def _ports() -> tuple[int, int]:
        return _free_port(), _free_port()

    def start(self) -> None:
        for inst in (self.a, self.b):
            inst.home.mkdir(parents=True)
            inst.folder.mkdir(parents=True)
            subprocess.run(
                ["syncthing", "generate", f"--home={inst.home}", "--no-default-folder"],
                check=True,
                capture_output=True,
            )
            root = ET.parse(inst.home / "config.xml").getroot()
            inst.device_id = root.find("device").get("id")
        for inst, other in ((self.a, self.b), (self.b, self.a)):
            self._configure(inst, other)
        env = dict(os.environ, STNOUPGRADE="1", STNODEFAULTFOLDER="1")
        for inst in (self.a, self.b):
            with open(inst.log, "wb") as log:
                inst.proc = subprocess.Popen(
                    ["syncthing", "serve", f"--home={inst.home}", "--no-browser", "--no-restart"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
        try:
            wait_until(
                lambda: self.a.connected() and self.b.connected(),
                90,
                "the two Syncthing instances to connect",
            )
        except AssertionError:
            self.stop()
            raise

    def _configure(self, inst: Instance, other: Instance) -> None:
        path = inst.home / "config.xml"
        tree = ET.parse(path)
        root = tree.getroot()
        for f in root.findall("folder"):
            root.remove(f)
        for dev in root.findall("device"):
            if dev.get("id") != inst.device_id:
                root.remove(dev)
        dev = ET.SubElement(
            root,
            "device",
            {"id": other.device_id, "name": other.name, "compression": "metadata",
             "introducer": "false", "skipIntroductionRemovals": "false", "introducedBy": ""},
        )  # fmt: skip
        ET.SubElement(dev, "address").text = f"tcp://127.0.0.1:{other.listen_port}"
        ET.SubElement(dev, "paused").text = "false"
        folder = ET.Element(
            "folder",
            {"id": FOLDER_ID, "label": "exchange", "path": str(inst.folder), "type": "sendreceive",
             "rescanIntervalS": "10", "fsWatcherEnabled": "true", "fsWatcherDelayS": "1",
             "ignorePerms": "false", "autoNormalize": "true"},
        )  # fmt: skip
        for who in (self.a, self.b):
            ET.SubElement(folder, "device", {"id": who.device_id, "introducedBy": ""})
        ET.SubElement(folder, "minDiskFree", {"unit": "%"}).text = "0"
        ET.SubElement(folder, "maxConflicts").text = "10"
        root.insert(0, folder)
        gui = root.find("gui")
        gui.find("address").text = f"127.0.0.1:{inst.gui_port}"
        key = gui.find("apikey")
        (key if key is not None else ET.SubElement(gui, "apikey")).text = f"key-{inst.name}"
        opts = root.find("options")
        for la in opts.findall("listenAddress"):
            opts.remove(la)
        ET.SubElement(opts, "listenAddress").text = f"tcp://127.0.0.1:{inst.listen_port}"
        for tag, val in [
            ("globalAnnounceEnabled", "false"),
            ("localAnnounceEnabled", "false"),
            ("relaysEnabled", "false"),
            ("natEnabled", "false"),
            ("urAccepted", "-1"),
            ("autoUpgradeIntervalH", "0"),
            ("startBrowser", "false"),
            ("crashReportingEnabled", "false"),
            # Dial a paused-then-resumed peer again within a second, not after the default
            # 60 s (`resume` waited exactly that long under a loaded `make test`).
            ("reconnectionIntervalS", "1"),
        ]:
            e = opts.find(tag)
            (e if e is not None else ET.SubElement(opts, tag)).text = val
        tree.write(path)

    def wait_in_sync(self, timeout: float = 120) -> dict[str, bytes]:
        """Until both folders hold the same files with the same bytes; returns them."""
        for inst in (self.a, self.b):
            inst.rescan()

        def same() -> tuple[dict[str, bytes]] | None:
            a, b = synced_files(self.a.folder), synced_files(self.b.folder)
            return (a,) if a == b and self.a.idle() and self.b.idle() else None

        (files,) = wait_until(same, timeout, "both exchange folders to hold the same files")
        return files

    def pause(self) -> None:
        for inst, other in ((self.a, self.b), (self.b, self.a)):
            inst.api(f"/rest/system/pause?device={other.device_id}", method="POST")
        wait_until(
            lambda: not self.a.connected() and not self.b.connected(), 30, "the pair to pause"
        )

    def resume(self) -> None:
        for inst, other in ((self.a, self.b), (self.b, self.a)):
            inst.api(f"/rest/system/resume?device={other.device_id}", method="POST")
        wait_until(lambda: self.a.connected() and self.b.connected(), 60, "the pair to resume")

    def stop(self) -> None:
        for inst in (self.a, self.b):
            if inst.proc is not None and inst.proc.poll() is None:
                inst.proc.terminate()
                try:
                    inst.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    inst.proc.kill()
                    inst.proc.wait()


def syncthing_available() -> str | None:
    """None when the tests can run, else the reason they cannot."""
    if shutil.which("syncthing") is None:
        return (
            "Debian's syncthing is not installed and could not be installed here "
            "(packaging/install-system-deps.sh installs it: apt-get install syncthing)"
        )
    return None
