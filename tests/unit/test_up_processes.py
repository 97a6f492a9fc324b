"""How ``up`` controls a child on each platform: the Windows branch with a stand-in process."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence

import pytest

from telemetry_stack.up import processes
from telemetry_stack.up.processes import (
    CREATE_NEW_PROCESS_GROUP,
    CTRL_BREAK_EVENT,
    WindowsControl,
    control_for,
)
from telemetry_stack.up.supervisor import Child


class StandIn:
    """A Popen stand-in that records what it is sent; exits when told to by a test."""

    def __init__(self, pid: int = 4242, *, exits_on: int | None = None) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.exits_on = exits_on
        self.sent: list[int] = []
        self.killed = False
        self.refuse: OSError | None = None

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append(sig)
        if sig == self.exits_on:
            self.returncode = 0

    def kill(self) -> None:
        self.killed = True
        self.returncode = 1


class Taskkill:
    """Records taskkill command lines; ends the stand-in like the real one unless it fails."""

    def __init__(self, process: StandIn, status: int = 0) -> None:
        self.process = process
        self.status = status
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> int:
        self.calls.append(list(argv))
        if self.status == 0:
            self.process.returncode = 1
        return self.status


POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


@POSIX_ONLY
def test_each_platform_gets_its_control() -> None:
    assert isinstance(control_for("win32"), WindowsControl)
    assert isinstance(control_for("linux"), processes.PosixControl)
    assert isinstance(control_for("darwin"), processes.PosixControl)
    assert isinstance(control_for(), processes.PosixControl)


def test_windows_children_lead_a_new_console_process_group() -> None:
    assert CREATE_NEW_PROCESS_GROUP == 0x200 and CTRL_BREAK_EVENT == 1  # Windows' values
    assert WindowsControl().popen_options() == {"creationflags": 0x200}


def test_windows_asks_a_child_to_stop_with_ctrl_break_to_its_group() -> None:
    process = StandIn(exits_on=CTRL_BREAK_EVENT)
    taskkill = Taskkill(process)
    control = WindowsControl(run=taskkill)
    assert control.exit_status(process) is None
    control.ask_to_stop(process)
    assert process.sent == [CTRL_BREAK_EVENT] and control.exit_status(process) == 0
    control.kill_all(process)
    assert taskkill.calls == [] and not process.killed  # it stopped: nothing left to kill


def test_windows_kills_a_child_that_ignores_ctrl_break_with_its_whole_tree() -> None:
    process = StandIn(pid=777)
    taskkill = Taskkill(process)
    control = WindowsControl(run=taskkill)
    control.ask_to_stop(process)
    assert control.exit_status(process) is None
    control.kill_all(process)
    assert taskkill.calls == [["taskkill", "/F", "/T", "/PID", "777"]]
    assert control.exit_status(process) == 1 and not process.killed


def test_windows_kills_the_child_itself_when_taskkill_fails() -> None:
    process = StandIn()
    taskkill = Taskkill(process, status=128)
    WindowsControl(run=taskkill).kill_all(process)
    assert len(taskkill.calls) == 1 and process.killed


def test_windows_kills_at_once_without_a_console_to_send_ctrl_break_on() -> None:
    process = StandIn(pid=31)
    process.refuse = OSError(6, "The handle is invalid")
    taskkill = Taskkill(process)
    WindowsControl(run=taskkill).ask_to_stop(process)
    assert taskkill.calls == [["taskkill", "/F", "/T", "/PID", "31"]]


@POSIX_ONLY
def test_posix_children_lead_a_new_process_group() -> None:
    assert processes.PosixControl().popen_options() == {"process_group": 0}


@POSIX_ONLY
def test_a_child_under_the_windows_sequence_stops_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The supervisor's stop with the Windows control, on a real process of this machine.

    Only what Linux cannot do is replaced: the group option (process_group instead of
    creationflags) and taskkill (SIGKILL to the group); the child ignores the stop request.
    """
    calls: list[list[str]] = []

    def taskkill(argv: Sequence[str]) -> int:
        calls.append(list(argv))
        os.killpg(int(argv[-1]), signal.SIGKILL)
        return 0

    control = WindowsControl(run=taskkill)
    monkeypatch.setattr(control, "popen_options", lambda: {"process_group": 0})
    monkeypatch.setattr(control, "ask_to_stop", lambda process: None)
    code = "import signal; print('up', flush=True); signal.pause()"  # alive until killed
    child = Child("stubborn", [sys.executable, "-c", code], os.environ, 9, control)
    assert control.exit_status(child.process) is None
    child.stop(0.3, threading.Event())
    assert calls == [["taskkill", "/F", "/T", "/PID", str(child.pid)]]
    assert child.process.returncode == -signal.SIGKILL
