"""Encode Redis commands in the protocol's own form; many at once as numpy byte matrices.

Every argument of a bulk command is ``$<length>\\r\\n<bytes>\\r\\n``. Per-row pieces (a value,
its length prefix, a key) are fixed-width byte-string columns padded with NUL; constants are
broadcast. The columns are laid side by side as one byte matrix and the padding removed with
one ``bytes.replace``, so no Python code runs per value. No piece may contain a NUL byte,
which the parser and the key rules guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Strings = npt.NDArray[np.bytes_]
Piece = bytes | Strings

_PREFIX_CACHE: dict[int, Strings] = {}


def length_prefixes(lengths: npt.NDArray[np.integer]) -> Strings:
    """Return ``$<length>\\r\\n`` for each length."""
    top = int(lengths.max(initial=0))
    table = _PREFIX_CACHE.get(top)
    if table is None:
        table = np.array([b"$%d\r\n" % n for n in range(top + 1)], dtype=np.bytes_)
        _PREFIX_CACHE.clear()
        _PREFIX_CACHE[top] = table
    prefixes: Strings = table[lengths]
    return prefixes


def byte_lengths(strings: Strings) -> npt.NDArray[np.int64]:
    """Return the length of each byte string (without its padding)."""
    return np.strings.str_len(strings).astype(np.int64)


def pack(args: tuple[bytes, ...]) -> bytes:
    """Return one command in the protocol's multibulk form."""
    return b"*%d\r\n" % len(args) + b"".join([bulk(arg) for arg in args])


def bulk(arg: bytes) -> bytes:
    """Return one argument in bulk form."""
    return b"$%d\r\n%s\r\n" % (len(arg), arg)


def rows(pieces: Sequence[Piece], count: int) -> bytes:
    """Return the concatenation, row by row, of per-row pieces and constants."""
    if count == 0:
        return b""
    blocks = []
    for piece in pieces:
        if isinstance(piece, bytes):
            constant = np.frombuffer(piece, dtype=np.uint8)
            blocks.append(np.broadcast_to(constant, (count, len(piece))))
        else:
            flat = np.ascontiguousarray(piece).reshape(count)
            blocks.append(flat.view(np.uint8).reshape(count, flat.dtype.itemsize))
    return np.hstack(blocks).tobytes().replace(b"\x00", b"")
