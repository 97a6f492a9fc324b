"""Check many decimal numbers at once, as a numpy byte matrix (one row per value).

Calling ``float`` on each of 800,000 values costs more than the rest of a refresh; the byte
rules below are checked with a few whole-matrix operations instead. Values with an exponent
(rare) are checked one by one. The rules are JSON's number grammar, so the API can splice the
stored text into JSON answers as it is: no ``+``, no leading zero, digits on both sides of a
point, and a finite value.
"""

from __future__ import annotations

import math
import re

import numpy as np
import numpy.typing as npt

MAX_VALUE_CHARS = 64
DIGIT, POINT, SIGN, EXPONENT, OTHER = 1, 2, 4, 8, 16
_CLASS = np.full(256, OTHER, dtype=np.uint8)
_CLASS[list(b"0123456789")] = DIGIT
_CLASS[ord(".")] = POINT
_CLASS[list(b"+-")] = SIGN
_CLASS[list(b"eE")] = EXPONENT
_CLASS[0] = 0  # padding of the fixed-width matrix
_IS_DIGIT = _CLASS == DIGIT
JSON_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def values_matrix(values: list[bytes], rows: int, columns: int) -> npt.NDArray[np.bytes_]:
    """Return the values as a fixed-width byte-string matrix of shape (rows, columns)."""
    return np.array(values, dtype=np.bytes_).reshape(rows, columns)


def bad_number_index(matrix: npt.NDArray[np.bytes_], values: list[bytes]) -> int | None:
    """Return the flat index of the first value that is not a finite JSON number, or None.

    A number is an optional ``-``, an integer part without a leading zero, an optional
    fraction (a point then digits) and an optional exponent; at most 64 characters.
    """
    count = matrix.size
    if count == 0:
        return None
    width = matrix.dtype.itemsize
    if width > MAX_VALUE_CHARS:
        return next(i for i, value in enumerate(values) if len(value) > MAX_VALUE_CHARS)
    raw = np.zeros((count, width + 2), dtype=np.uint8)  # two NUL columns: room to look ahead
    raw[:, :width] = matrix.reshape(count).view(np.uint8).reshape(count, width)
    classes = _CLASS[raw]
    seen = np.bitwise_or.reduce(classes, axis=1)
    bad = (seen & OTHER).astype(bool) | (raw[:, 0] == 0)
    exponent = (seen & EXPONENT).astype(bool) & ~bad
    plain = ~exponent & ~bad
    bad |= plain & (np.bitwise_or.reduce(classes[:, 1:], axis=1) & SIGN).astype(bool)
    bad |= plain & (raw[:, 0] == ord("+"))
    start = (raw[:, 0] == ord("-")).astype(np.intp)  # the integer part's first digit
    rows = np.arange(count)
    lead, after = raw[rows, start], raw[rows, start + 1]
    bad |= plain & ~_IS_DIGIT[lead]
    bad |= plain & (lead == ord("0")) & _IS_DIGIT[after]
    if ((seen & POINT) != 0).any():
        bad |= plain & ((classes == POINT).sum(axis=1, dtype=np.uint8) > 1)
        bad |= plain & ((classes[:, :-1] == POINT) & (classes[:, 1:] != DIGIT)).any(axis=1)
    for index in np.flatnonzero(exponent):
        bad[index] = not _finite(values[index])
    first = int(np.argmax(bad))
    return first if bad[first] else None


def _finite(value: bytes) -> bool:
    if JSON_NUMBER.fullmatch(value) is None:
        return False
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False
