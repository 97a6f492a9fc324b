"""Encode Redis commands as bytes, outside redis-py's per-command path.

Large snapshot writes use the inline form of the protocol (space-separated arguments, one
command per line), which needs no length prefix per argument: a CSV row becomes an HSET line by
one ``%`` format. Arguments that are not plain printable words are sent double-quoted with
``\\xHH`` escapes, which Redis's inline parser decodes back to the exact bytes.
"""

from __future__ import annotations

import re

# Bytes an unquoted inline argument may hold: printable ASCII without space, quotes, backslash.
_PLAIN = re.compile(rb"[!#-&(-\[\]-~]+")
# Inline requests are limited to 64 KiB per line by Redis; stay well under it.
INLINE_LINE_BYTES = 16 * 1024


def is_plain(arg: bytes) -> bool:
    """Return whether ``arg`` can be sent unquoted in an inline command."""
    return _PLAIN.fullmatch(arg) is not None


def inline_arg(arg: bytes) -> bytes:
    """Return ``arg`` as one inline argument, quoted and escaped when it must be."""
    if is_plain(arg):
        return arg
    return b'"' + b"".join(b"\\x%02x" % byte for byte in arg) + b'"'


def multibulk(*args: bytes) -> bytes:
    """Return one command in the multibulk form (any bytes allowed)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def inline_chunks(command: bytes, key: bytes, args: list[bytes]) -> list[bytes]:
    """Return inline ``command key arg...`` lines, as few as the line limit allows.

    Every arg must already be inline-safe (see inline_arg).
    """
    head = command + b" " + key + b" "
    widest = max(map(len, args), default=1) + 1
    per_line = max(1, (INLINE_LINE_BYTES - len(head) - 2) // widest)
    return [
        head + b" ".join(args[start : start + per_line]) + b"\r\n"
        for start in range(0, len(args), per_line)
    ]
