"""Previews decode images only in formats on an allow-list, within a size cap (issue 13,
low): bytes from a file someone shared are untrusted, and Qt's TIFF, SVG and other plugins
are a larger attack surface than the five formats people preview."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from gui_helpers import *  # noqa: F403
from strongroom.gui import preview
from strongroom.gui.preview import decode_image, preview_kind


def _encode(image: QImage, fmt: str) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buf, fmt), fmt
    buf.close()
    return bytes(data)


# Qt writes no GIF: a 1x1 GIF89a, byte by byte.
GIF_1X1 = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _small(fmt: str) -> bytes:
    if fmt == "GIF":
        return GIF_1X1
    image = QImage(8, 6, QImage.Format.Format_RGB32)
    image.fill(0x336699)
    return _encode(image, fmt)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP"])
def test_allowed_formats_preview(qapp, fmt):
    data = _small(fmt)
    assert preview_kind(f"a.{fmt.lower()}", data) == "image"
    image = decode_image(data)
    expected = (1, 1) if fmt == "GIF" else (8, 6)
    assert image is not None and (image.width(), image.height()) == expected


@pytest.mark.parametrize("fmt,name", [("TIFF", "a.tiff"), ("PPM", "a.ppm"), ("ICO", "a.ico")])
def test_other_decodable_formats_are_not_decoded(qapp, fmt, name):
    data = _small(fmt)
    assert not QImage.fromData(data).isNull(), "Qt itself would decode it"
    assert decode_image(data) is None
    assert preview_kind(name, data) != "image"


def test_svg_is_not_rendered_as_an_image(qapp):
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<rect width="10" height="10" fill="red"/></svg>'
    )
    assert not QImage.fromData(svg).isNull(), "Qt itself would render it"
    assert decode_image(svg) is None
    assert preview_kind("a.svg", svg) == "text"  # shown as the XML it is


def test_a_format_lie_is_not_decoded_by_another_plugin(qapp):
    # TIFF bytes under a PNG name and with a PNG-looking start are still refused.
    tiff = _small("TIFF")
    assert decode_image(b"\x89PNG\r\n\x1a\n" + tiff) is None
    assert preview_kind("a.png", tiff) != "image"


def test_images_over_the_pixel_cap_are_not_decoded(qapp, monkeypatch):
    # The cap is checked from the header, before decoding: a lower cap shows it applies.
    image = QImage(20, 20, QImage.Format.Format_RGB32)
    image.fill(0)
    data = _encode(image, "PNG")
    assert decode_image(data) is not None
    monkeypatch.setattr(preview, "MAX_IMAGE_PIXELS", 399)
    assert decode_image(data) is None
    assert preview_kind("big.png", data) == "none"
    monkeypatch.setattr(preview, "MAX_IMAGE_PIXELS", 400)
    monkeypatch.setattr(preview, "MAX_IMAGE_SIDE", 19)
    assert decode_image(data) is None


def test_the_default_cap_is_within_what_memory_allows():
    assert preview.MAX_IMAGE_PIXELS * 4 <= preview.IMAGE_ALLOCATION_LIMIT_MB * 1024 * 1024


def test_text_that_starts_like_a_bitmap_is_still_text(qapp):
    assert preview_kind("notes.txt", b"BMW service notes\n") == "text"
    assert preview_kind("notes", b"BMW service notes\n") == "text"
