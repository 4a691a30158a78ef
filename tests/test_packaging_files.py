"""The desktop-integration files parse, agree with each other and with the app, and validate.

The Debian validators (`desktop-file-validate`, `appstreamcli`) are installed by
`make package`, not by `make test`; their tests skip when they are missing.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from strongroom import __version__
from strongroom.vault.header import MAGIC_PREFIX

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "resources" / "linux"
ID = "app.strongroom.Strongroom"
DESKTOP = LINUX / f"{ID}.desktop"
METAINFO = LINUX / f"{ID}.metainfo.xml"
MIME = LINUX / f"{ID}.xml"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
TYPES = {"application/x-strongroom-vault", "application/x-age-encrypted"}
# Icon names the files refer to -> the SVG that packaging/build-deb.sh installs under them.
ICON_SOURCES = {
    ID: ROOT / "resources/icons/app.svg",
    "application-x-strongroom-vault": ROOT / "resources/icons/app.svg",
    "application-x-age-encrypted": LINUX / "application-x-age-encrypted.svg",
}


def _desktop() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def _mime_types() -> dict[str, ET.Element]:
    root = ET.parse(MIME).getroot()
    return {t.get("type"): t for t in root.findall(f"{MIME_NS}mime-type")}


def test_desktop_entry():
    entry = _desktop()
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "strongroom %F"  # local paths; __main__ routes them to the GUI
    assert entry["Icon"] == ID
    assert entry["Terminal"] == "false"
    assert set(filter(None, entry["MimeType"].split(";"))) == TYPES


def test_metainfo_agrees_with_the_app():
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == ID
    assert root.findtext("launchable") == DESKTOP.name
    versions = [r.get("version") for r in root.iter("release")]
    assert versions[0] == __version__, "add a <release> for the new version"
    assert {m.text for m in root.iter("mediatype")} == TYPES
    assert root.findtext("provides/binary") == "strongroom"


def test_mime_types_match_the_formats():
    types = _mime_types()
    assert set(types) == TYPES
    vault = types["application/x-strongroom-vault"]
    assert [g.get("pattern") for g in vault.iter(f"{MIME_NS}glob")] == ["vault.strongroom"]
    assert [m.get("value") for m in vault.iter(f"{MIME_NS}match")] == [MAGIC_PREFIX.decode()]
    age = types["application/x-age-encrypted"]
    assert [g.get("pattern") for g in age.iter(f"{MIME_NS}glob")] == ["*.age"]
    assert {m.get("value") for m in age.iter(f"{MIME_NS}match")} == {
        "age-encryption.org/v1\\n",  # shared-mime-info unescapes \n
        "-----BEGIN AGE ENCRYPTED FILE-----",
    }


def test_referenced_icons_exist_and_are_installed():
    names = {_desktop()["Icon"]}
    names |= {i.get("name") for t in _mime_types().values() for i in t.iter(f"{MIME_NS}icon")}
    assert names == set(ICON_SOURCES)
    build_deb = (ROOT / "packaging/build-deb.sh").read_text()
    for name in names:
        source = ICON_SOURCES[name]
        assert source.is_file(), source
        assert "<svg" in source.read_text()
        target = "$ID.svg" if name == ID else f"{name}.svg"
        assert target in build_deb and source.relative_to(ROOT).as_posix() in build_deb


def test_the_spec_keeps_every_qt_module_the_app_imports():
    used = set()
    for path in (ROOT / "app/strongroom").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"from PySide6\.(Qt\w+) import", text))
        used |= set(re.findall(r"from PySide6 import (Qt\w+)", text))
    spec = (ROOT / "packaging/strongroom.spec").read_text()
    block = spec[spec.index("QT_EXCLUDES") : spec.index("DEV_EXCLUDES")]
    excluded = set(re.findall(r"\bQt\w+", block)) - {"QT_EXCLUDES"}
    assert used and not (used & excluded), f"bundle would lack {sorted(used & excluded)}"


def test_the_app_runs_without_the_ssl_module_the_spec_excludes():
    # The bundle leaves out Python's ssl (no libssl3 in Depends); what the app imports,
    # QR codes included, must not need it.
    code = (
        "import sys; sys.modules['ssl'] = sys.modules['_ssl'] = None\n"
        "import io, segno, strongroom.cli, strongroom.gui.app, strongroom.gui.selftest\n"
        "segno.make('x').save(io.BytesIO(), kind='png')\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT / "app"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr


def test_packaging_scripts_parse():
    debian = ROOT / "packaging/debian"
    scripts = [*sorted((ROOT / "packaging").rglob("*.sh")), debian / "postinst", debian / "postrm"]
    for script in scripts:
        shell = "sh" if script.parent.name == "debian" else "bash"
        subprocess.run([shell, "-n", str(script)], check=True)


@pytest.mark.skipif(
    not shutil.which("desktop-file-validate"),
    reason="desktop-file-utils is not installed (make package installs it)",
)
def test_desktop_file_validate():
    out = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "error" not in out.stdout.lower()


@pytest.mark.skipif(
    not shutil.which("appstreamcli"), reason="appstream is not installed (make package installs it)"
)
def test_appstreamcli_validate():
    out = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(
    not shutil.which("update-mime-database"), reason="shared-mime-info is not installed"
)
def test_mime_database_recognises_vaults_and_shares(tmp_path):
    """Built the way postinst builds it, the database names our files by glob and magic."""
    packages = tmp_path / "mime" / "packages"
    packages.mkdir(parents=True)
    shutil.copy(MIME, packages)
    system = Path("/usr/share/mime/packages/freedesktop.org.xml")
    if system.is_file():
        shutil.copy(system, packages)
    subprocess.run(
        ["update-mime-database", str(tmp_path / "mime")], check=True, capture_output=True
    )
    files = tmp_path / "files"
    (files / "v.strongroom").mkdir(parents=True)
    (files / "v.strongroom/vault.strongroom").write_bytes(MAGIC_PREFIX + b"1\n{}\n")
    (files / "renamed-header").write_bytes(MAGIC_PREFIX + b"1\n{}\n")
    (files / "share.age").write_bytes(b"")
    (files / "share-no-suffix").write_bytes(b"age-encryption.org/v1\n-> X25519 abc\n")
    (files / "armored").write_bytes(b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n")
    probe = (
        "import sys\n"
        "from PySide6.QtCore import QMimeDatabase\n"
        "db = QMimeDatabase()\n"
        "for name in sys.argv[1:]:\n"
        "    print(name, db.mimeTypeForFile(name).name())\n"
    )
    names = [
        "v.strongroom/vault.strongroom",
        "renamed-header",
        "share.age",
        "share-no-suffix",
        "armored",
    ]
    env = dict(os.environ, XDG_DATA_DIRS=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", probe, *names],
        cwd=files,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = dict(line.split() for line in out.stdout.splitlines())
    assert found == {
        "v.strongroom/vault.strongroom": "application/x-strongroom-vault",
        "renamed-header": "application/x-strongroom-vault",
        "share.age": "application/x-age-encrypted",
        "share-no-suffix": "application/x-age-encrypted",
        "armored": "application/x-age-encrypted",
    }
