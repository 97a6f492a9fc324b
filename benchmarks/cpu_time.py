"""CPU seconds used by a process and all its descendants, read from Linux's /proc.

A server's CPU time per answer changes little when other work shares the machine, unlike its
throughput, which swings with every other process's demand for the same cores. On a server
limited by its CPU, throughput is the CPU it gets divided by its CPU per answer, so a change of
CPU per answer is the change of throughput it causes. Linux only: elsewhere ``supported()`` is
False.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def supported() -> bool:
    """Return whether /proc gives per-process CPU times here."""
    return (PROC / "self" / "stat").exists()


def _stat(pid: int) -> list[str] | None:
    """Return the fields after the command name of /proc/<pid>/stat, or None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses


def _tree(root: int) -> list[int]:
    """Return ``root`` and every live descendant of it."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))  # field 4: ppid
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """Return the user + system CPU seconds used so far by ``root`` and its live descendants.

    Descendants that already exited are not counted: measure across a span in which the
    process tree stays the same (a server's workers, running).
    """
    ticks = 0
    for pid in _tree(root):
        fields = _stat(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15: utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> list[int]:
    """Return the live descendants of ``root`` (a server's workers), without ``root`` itself."""
    return _tree(root)[1:]
