"""How ``up`` starts, watches and stops one child process on each platform.

POSIX (Linux, macOS): the child leads its own process group, which holds everything it forks
(granian's worker processes too). It is asked to stop with SIGTERM; after the grace period its
whole group gets SIGKILL. Its exit status is read without reaping it, so its group id cannot be
reused before that SIGKILL (macOS before Python 3.13 has no waitid: there it is reaped, and the
group id stays reserved while any process of the group lives).

Windows: the child leads a new console process group (CREATE_NEW_PROCESS_GROUP, which also keeps
the console's Ctrl-C away from it, as its own group does on POSIX). It is asked to stop with
Ctrl-Break sent to that group, which every service treats as a stop (SIGBREAK); after the grace
period ``taskkill /F /T`` ends it with every process it started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from telemetry_common.platforms import is_windows

logger = logging.getLogger(__name__)

# The values of Windows' constants, which Python defines only there.
CREATE_NEW_PROCESS_GROUP: int = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)
CTRL_BREAK_EVENT: int = getattr(signal, "CTRL_BREAK_EVENT", 1)

Runner = Callable[[Sequence[str]], int]


class Control(Protocol):
    """Platform-specific handling of one child process."""

    def popen_options(self) -> dict[str, Any]:
        """Return the Popen keywords that put the child in its own group."""

    def exit_status(self, process: subprocess.Popen[bytes]) -> int | None:
        """Return the exit status once the child exited, else None."""

    def ask_to_stop(self, process: subprocess.Popen[bytes]) -> None:
        """Ask the child to stop gracefully."""

    def kill_all(self, process: subprocess.Popen[bytes]) -> None:
        """Kill the child and what it started, at once."""


if sys.platform != "win32":  # the type checker of each platform sees only its own branch

    class PosixControl:
        """Process groups: SIGTERM to the child, then SIGKILL to its whole group."""

        def __init__(self, *, reap_early: bool = not hasattr(os, "waitid")) -> None:
            # Without waitid (macOS before Python 3.13) the exit is read by reaping: the
            # group id stays reserved while any process of the group lives, so a later
            # SIGKILL to it still reaches only leftovers of this child.
            self.reap_early = reap_early

        def popen_options(self) -> dict[str, Any]:
            """Return ``process_group=0``: the child leads a new group."""
            return {"process_group": 0}

        def exit_status(self, process: subprocess.Popen[bytes]) -> int | None:
            """Return the exit status, without reaping where possible (negative: a signal)."""
            if process.returncode is not None or self.reap_early:
                return process.poll()
            return _peek_status(process.pid)

        def ask_to_stop(self, process: subprocess.Popen[bytes]) -> None:
            """Send SIGTERM to the child (not reaped yet: the pid is still the child's)."""
            os.kill(process.pid, signal.SIGTERM)

        def kill_all(self, process: subprocess.Popen[bytes]) -> None:
            """SIGKILL the child's group: the child if still there, and any leftovers."""
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


if sys.platform != "win32" and (sys.platform != "darwin" or sys.version_info >= (3, 13)):

    def _peek_status(pid: int) -> int | None:
        """Return the exit status of child ``pid`` without reaping it, or None while it runs."""
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return 0  # already reaped
        if info is None or info.si_pid == 0:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

else:

    def _peek_status(pid: int) -> int | None:
        """Refuse: this platform has no waitid (PosixControl reaps early instead)."""
        raise NotImplementedError("os.waitid is not available here")


def run_quietly(argv: Sequence[str]) -> int:
    """Run ``argv`` with its output discarded; return its exit status (127 if not found)."""
    try:
        return subprocess.run(list(argv), capture_output=True, check=False).returncode
    except OSError:
        return 127


class WindowsControl:
    """Console process groups: Ctrl-Break to the child's group, then ``taskkill /F /T``."""

    def __init__(self, run: Runner = run_quietly) -> None:
        self.run = run

    def popen_options(self) -> dict[str, Any]:
        """Return CREATE_NEW_PROCESS_GROUP: the child leads a new console process group."""
        return {"creationflags": CREATE_NEW_PROCESS_GROUP}

    def exit_status(self, process: subprocess.Popen[bytes]) -> int | None:
        """Return the exit status (Popen holds the process handle, so its pid stays its own)."""
        return process.poll()

    def ask_to_stop(self, process: subprocess.Popen[bytes]) -> None:
        """Send Ctrl-Break to the child's group; without a console to send it on, kill at once."""
        try:
            process.send_signal(CTRL_BREAK_EVENT)
        except OSError as exc:
            logger.warning("cannot send Ctrl-Break to pid %d (%s): killing it", process.pid, exc)
            self.kill_all(process)

    def kill_all(self, process: subprocess.Popen[bytes]) -> None:
        """End the child and every process it started with ``taskkill /F /T``."""
        if process.poll() is not None:
            return
        status = self.run(["taskkill", "/F", "/T", "/PID", str(process.pid)])
        if status != 0 and process.poll() is None:
            logger.warning("taskkill failed (status %d): killing pid %d only", status, process.pid)
            process.kill()


def control_for(platform: str | None = None) -> Control:
    """Return the process control of ``platform`` (default: this one)."""
    if sys.platform == "win32":
        return WindowsControl()
    else:  # PosixControl exists only here (the type checker of Windows never sees this line)
        return WindowsControl() if is_windows(platform) else PosixControl()
