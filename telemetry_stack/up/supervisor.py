"""Child processes of ``telemetry up``: each in its own process group, output prefixed, stopped.

A child's process group holds everything it starts (granian's worker processes too), so
stopping a child means a polite stop request, a grace period, then killing all of it: SIGTERM
and SIGKILL to the group on POSIX, Ctrl-Break and ``taskkill /T`` on Windows (see processes).
Its own group also keeps the terminal's Ctrl-C away from it: ``up`` alone decides the order.
"""

from __future__ import annotations

import collections
import logging
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO

from telemetry_stack.up.processes import Control, control_for

logger = logging.getLogger(__name__)

TAIL_LINES = 40
_ERROR_LINE = re.compile(
    r"^\S*(Error|Exception)\b|\b(ERROR|CRITICAL|FATAL)\b|configuration error|Errno"
)
_OUTPUT_LOCK = threading.Lock()


class ChildFailed(RuntimeError):
    """A child exited on its own; the message names it and says why, from its output."""

    def __init__(self, name: str, status: int, tail: Sequence[str]) -> None:
        how = f"status {status}" if status >= 0 else f"signal {signal.Signals(-status).name}"
        super().__init__(f"{name} exited ({how}): {reason(tail)}")
        self.name = name
        self.status = status
        self.tail = list(tail)


def reason(tail: Sequence[str]) -> str:
    """Return the line of ``tail`` that best says why a process failed (its last error line)."""
    for line in reversed(tail):
        if _ERROR_LINE.search(line):
            return line.strip()
    return tail[-1].strip() if tail else "(no output)"


class Child:
    """One child process: started in its own group, its output forwarded with a name prefix."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        width: int,
        control: Control | None = None,
    ) -> None:
        self.name = name
        self.control = control or control_for()
        self.prefix = f"{name:<{width}} | "
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.process = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            **self.control.popen_options(),
        )
        self.reader = threading.Thread(target=self._forward, name=f"{name}-output", daemon=True)
        self.reader.start()
        logger.debug("started %s (pid %d): %s", name, self.process.pid, " ".join(argv))

    @property
    def pid(self) -> int:
        """Return the child's process id (also its process group id)."""
        return self.process.pid

    def _forward(self) -> None:
        stream: IO[bytes] | None = self.process.stdout
        if stream is None:
            return
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\r\n")
            self.tail.append(line)
            with _OUTPUT_LOCK:
                try:
                    sys.stderr.write(self.prefix + line + "\n")
                    sys.stderr.flush()
                except (OSError, ValueError):
                    pass  # nobody reads our stderr any more: keep draining the pipe
        stream.close()

    def exit_status(self) -> int | None:
        """Return the child's exit status once it exited (negative: killed by that signal)."""
        return self.control.exit_status(self.process)

    def failure(self) -> ChildFailed:
        """Return the error describing this child's exit (after its output is drained)."""
        self.reader.join(timeout=2)
        return ChildFailed(self.name, self.exit_status() or 0, list(self.tail))

    def stop(self, grace: float, hurry: threading.Event) -> None:
        """Ask the child to stop, wait up to ``grace`` seconds, then kill its process group."""
        if self.exit_status() is None:
            logger.info("stopping %s (pid %d)", self.name, self.pid)
            self.control.ask_to_stop(self.process)
            deadline = time.monotonic() + grace
            while self.exit_status() is None and time.monotonic() < deadline:
                if hurry.wait(0.02):
                    break
            if self.exit_status() is None:
                logger.warning("%s did not stop within %g s: killing it", self.name, grace)
        self.control.kill_all(self.process)  # the child if still there, and any leftovers
        self.process.wait()
        self.reader.join(timeout=2)


class Supervisor:
    """The children of one stack, stopped in the reverse order of their start."""

    def __init__(self, grace: float = 5.0, width: int = 9, control: Control | None = None) -> None:
        self.grace = grace
        self.control = control or control_for()
        self.width = width  # of the name column in front of each output line
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self.hurry = threading.Event()

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Child:
        """Start ``argv`` as the child ``name``."""
        child = Child(name, argv, env, self.width, self.control)
        self.children.append(child)
        return child

    def check(self) -> None:
        """Raise ChildFailed if any child exited."""
        for child in self.children:
            if child.exit_status() is not None:
                raise child.failure()

    def request_stop(self) -> None:
        """Ask for a stop; a second request skips the grace periods."""
        if self.stopping.is_set():
            self.hurry.set()
        self.stopping.set()

    def stop_all(self) -> None:
        """Stop every child, the last started first."""
        self.stopping.set()
        for child in reversed(self.children):
            child.stop(self.grace, self.hurry)
        self.children.clear()
