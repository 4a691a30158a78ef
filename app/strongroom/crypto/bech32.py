"""Bech32 (BIP 173) encoding, as age uses it for keys.

age keys use the original Bech32 checksum (not Bech32m) and lift BIP 173's 90-character
limit. We keep a limit of our own so that a pasted blob cannot make us do unbounded work.
"""

from __future__ import annotations

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_REV = {c: i for i, c in enumerate(_CHARSET)}
_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)

MAX_LENGTH = 1000
"""Longest Bech32 string we decode; age X25519 keys are 62 and 74 characters."""


class Bech32Error(ValueError):
    """The string is not valid Bech32 (bad characters, mixed case or checksum)."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate(_GENERATORS):
            if (top >> i) & 1:
                chk ^= g
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        # Non-zero padding bits or a whole extra group: a non-canonical encoding.
        raise Bech32Error("invalid padding in Bech32 data")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under the human-readable part ``hrp`` (returned lowercase)."""
    hrp = hrp.lower()
    values = _convert_bits(data, 8, 5, pad=True)
    polymod = _polymod([*_hrp_expand(hrp), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[v] for v in values + checksum)


def decode(text: str) -> tuple[str, bytes]:
    """Decode a Bech32 string; returns the lowercase hrp and the data bytes.

    Rejects mixed case, characters outside the charset, bad checksums and non-zero padding.
    """
    if len(text) > MAX_LENGTH:
        raise Bech32Error("Bech32 string is too long")
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("Bech32 string mixes upper and lower case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise Bech32Error("Bech32 separator missing or misplaced")
    hrp = text[:pos]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise Bech32Error("invalid character in Bech32 prefix")
    try:
        values = [_CHARSET_REV[c] for c in text[pos + 1 :]]
    except KeyError:
        raise Bech32Error("invalid character in Bech32 data") from None
    if _polymod([*_hrp_expand(hrp), *values]) != 1:
        raise Bech32Error("Bech32 checksum does not match")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, pad=False))
