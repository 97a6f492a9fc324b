"""The supervisor of ``telemetry up``: prefixed output, failures explained, whole groups stopped."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from telemetry_stack.up.supervisor import ChildFailed, Supervisor, reason
from tests.helpers import wait_for

if sys.platform == "win32":
    pytest.skip("POSIX process groups, signals and /proc", allow_module_level=True)

from telemetry_stack.up.processes import PosixControl  # defined on POSIX only


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def alive(pid: int) -> bool:
    """Return whether ``pid`` runs (a zombie does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


# With waitid (Linux) the exit is read without reaping; without it (macOS before Python 3.13)
# the child is reaped: both must kill the whole group.
CONTROLS = pytest.mark.parametrize(
    "control",
    [PosixControl(reap_early=False), PosixControl(reap_early=True)],
    ids=["waitid", "reaped"],
)


IGNORES_TERM_WITH_A_GRANDCHILD = """
import signal, subprocess, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
print(child.pid, flush=True)
signal.pause()  # SIGTERM is ignored: only SIGKILL ends it
"""

RECORDS_ITS_STOP = """
import signal, sys
def stop(*_):
    with open(sys.argv[1], "a") as out:
        out.write(sys.argv[2] + "\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("up", flush=True)
signal.pause()  # until SIGTERM runs stop()
"""


def test_output_lines_are_forwarded_to_stderr_with_the_child_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    supervisor = Supervisor(width=6)
    child = supervisor.start("gen", python("print('one'); print('two')"), os.environ)
    wait_for(lambda: child.exit_status() is not None, 10, message="exit")
    supervisor.stop_all()
    assert "gen    | one\ngen    | two\n" in capsys.readouterr().err
    assert list(child.tail) == ["one", "two"]


@CONTROLS
def test_a_child_that_exits_is_named_with_the_reason_from_its_output(
    control: PosixControl,
) -> None:
    supervisor = Supervisor(control=control)
    code = "import sys; print('starting'); print('OSError: port taken'); print('bye'); sys.exit(3)"
    supervisor.start("api", python(code), os.environ)
    with pytest.raises(ChildFailed) as caught:
        wait_for(lambda: supervisor.check(), 10, message="a failure")
    supervisor.stop_all()
    assert caught.value.name == "api" and caught.value.status == 3
    assert str(caught.value) == "api exited (status 3): OSError: port taken"


@CONTROLS
def test_stop_kills_the_whole_process_group_of_a_child_that_ignores_sigterm(
    control: PosixControl,
) -> None:
    supervisor = Supervisor(grace=0.5, control=control)
    child = supervisor.start("stubborn", python(IGNORES_TERM_WITH_A_GRANDCHILD), os.environ)
    grandchild = int(wait_for(lambda: child.tail and child.tail[0], 10, message="grandchild"))
    started = time.monotonic()
    supervisor.stop_all()
    assert time.monotonic() - started < 5
    assert not alive(child.pid)
    wait_for(lambda: not alive(grandchild), 5, message="the grandchild to die")
    assert child.exit_status() == -9


def test_children_stop_in_the_reverse_order_of_their_start(tmp_path: Path) -> None:
    record = tmp_path / "stops"
    supervisor = Supervisor()
    children = [
        supervisor.start(name, [*python(RECORDS_ITS_STOP), str(record), name], os.environ)
        for name in ("redis", "generator", "api")
    ]
    for child in children:
        wait_for(lambda child=child: list(child.tail) == ["up"], 10, message="start")  # type: ignore[misc]
    supervisor.stop_all()
    assert record.read_text().split() == ["api", "generator", "redis"]
    assert all(child.exit_status() == 0 for child in children)


def test_a_second_stop_request_skips_the_grace_period() -> None:
    supervisor = Supervisor()
    supervisor.request_stop()
    assert supervisor.stopping.is_set() and not supervisor.hurry.is_set()
    supervisor.request_stop()
    assert supervisor.hurry.is_set()


@pytest.mark.parametrize(
    ("tail", "why"),
    [
        (["a", "RuntimeError: Address already in use (os error 98)", "Stack backtrace:", "  0: x"],
         "RuntimeError: Address already in use (os error 98)"),
        (["telemetry api: configuration error: TELEMETRY_API_THREADS='0': must be at least 1"],
         "telemetry api: configuration error: TELEMETRY_API_THREADS='0': must be at least 1"),
        (["2026-01-01 00:00:00 ERROR x boom", "2026-01-01 00:00:01 INFO x bye"],
         "2026-01-01 00:00:00 ERROR x boom"),
        (["just", "the last line"], "the last line"),
        ([], "(no output)"),
    ],
)  # fmt: skip
def test_reason_is_the_last_error_line_else_the_last_line(tail: list[str], why: str) -> None:
    assert reason(tail) == why
