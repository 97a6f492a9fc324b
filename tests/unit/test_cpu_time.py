"""The benchmarks' CPU-time reader adds up a process tree's CPU from /proc."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from benchmarks import counting_bench as cpu_time

pytestmark = pytest.mark.skipif(not cpu_time.supported(), reason="needs Linux's /proc")

BURN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"
IDLE = "import signal\nsignal.pause()\n"  # until killed
# A parent that starts a child burning 0.4 s of CPU, then idling until a signal (the kill),
# and kills it when a line arrives.
PARENT = (
    "import subprocess, sys\n"
    f"child = subprocess.Popen([sys.executable, '-c', {BURN + IDLE!r}])\n"
    "input()\nchild.kill()\nchild.wait()\n"
)


def test_a_busy_child_s_cpu_is_counted_in_its_parent_s_tree() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE)
    try:
        deadline, children = time.monotonic() + 60, []
        while time.monotonic() < deadline:  # until the child has burnt most of its 0.4 s
            children = cpu_time.descendants(parent.pid)
            if children and cpu_time.cpu_seconds(children[0]) >= 0.35:
                break
            time.sleep(0.05)
        assert len(children) == 1 and parent.pid not in children
        child = cpu_time.cpu_seconds(children[0])
        assert child >= 0.35
        assert cpu_time.cpu_seconds(parent.pid) >= child  # the tree: the parent's and the child's
    finally:
        parent.communicate(b"\n", timeout=30)
    assert parent.returncode == 0
    assert cpu_time.cpu_seconds(parent.pid) == 0.0  # gone: nothing left to read
