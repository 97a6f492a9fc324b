"""Render the switches x metrics matrix as CSV bytes, every column at once with numpy.

Each value becomes a fixed-width run of ASCII bytes in one uint8 matrix, its leading zeros
written as NUL bytes; one ``bytes.replace`` then drops every NUL, leaving plain decimals
("12.50", "1234567") without a Python loop over values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NUL = 0
COMMA, NEWLINE, DOT, MINUS, ZERO = (ord(c) for c in ",\n.-0")


def header(names: Sequence[str], first: str = "switch") -> bytes:
    """Return the header line: ``switch,<metric>,...``."""
    return (",".join([first, *names]) + "\n").encode("ascii")


def id_block(ids: Sequence[str]) -> np.ndarray:
    """Return the ids as an (N, width) uint8 matrix, NUL-padded on the right."""
    if any(set(text) & set(',"\n\r\0') for text in ids):
        raise ValueError("switch ids must not contain commas, quotes, newlines or NUL")
    encoded = np.array([text.encode("utf-8") for text in ids], dtype=np.bytes_)
    return encoded.view(np.uint8).reshape(len(ids), -1)


def number_block(column: np.ndarray, decimals: int) -> np.ndarray:
    """Return ``,<value>`` for each value, with ``decimals`` fixed decimals, as uint8 rows."""
    scaled = np.rint(column * 10.0**decimals).astype(np.int64)
    negative = scaled < 0
    has_sign = bool(negative.any())
    magnitude = np.abs(scaled)
    largest = int(magnitude.max(initial=0))
    digits = max(len(str(largest)), decimals + 1)
    width = 1 + has_sign + digits + (1 if decimals else 0)
    out = np.zeros((len(column), width), dtype=np.uint8)
    out[:, 0] = COMMA
    if has_sign:
        out[:, 1] = np.where(negative, MINUS, NUL)
    # Digits from the right; positions left of the value's first digit stay NUL.
    position = width - 1
    remaining = magnitude
    for index in range(digits):
        if decimals and index == decimals:
            out[:, position] = DOT
            position -= 1
        remaining, digit = np.divmod(remaining, 10)
        if index <= decimals:
            out[:, position] = digit + ZERO
        else:
            out[:, position] = np.where((remaining > 0) | (digit > 0), digit + ZERO, NUL)
        position -= 1
    return out


def render_csv(head: bytes, ids: np.ndarray, values: np.ndarray, decimals: Sequence[int]) -> bytes:
    """Return the CSV body: ``head``, then one row per switch, its id first."""
    if not np.isfinite(values).all():
        raise ValueError("refusing to render a value that is not finite")
    blocks = [ids]
    blocks.extend(number_block(values[:, j], places) for j, places in enumerate(decimals))
    blocks.append(np.full((values.shape[0], 1), NEWLINE, dtype=np.uint8))
    return head + np.concatenate(blocks, axis=1).tobytes().replace(b"\0", b"")
