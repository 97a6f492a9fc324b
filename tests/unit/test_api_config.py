"""The API's settings from TELEMETRY_* variables and options; bad values exit with status 2."""

from __future__ import annotations

import fakeredis
import pytest

from api_service import create_app
from api_service.config import ApiConfig, cores
from api_service.state import EXTENSION, ApiState
from telemetry_common.keys import Keys
from telemetry_common.settings import ConfigError
from telemetry_stack import cli


def test_defaults() -> None:
    config = ApiConfig.from_env({})
    assert config == ApiConfig(
        host="127.0.0.1",
        port=8080,
        workers=cores(),
        threads=4,
        redis_url="redis://127.0.0.1:6379/0",
        key_prefix="telemetry",
        redis_timeout=0.5,
        redis_retries=1,
        retry_after=1,
        proxy_hops=0,
    )


def test_values_from_the_environment_round_trip() -> None:
    env = {
        "TELEMETRY_API_BIND": "0.0.0.0:9000",
        "TELEMETRY_API_WORKERS": "3",
        "TELEMETRY_API_THREADS": "2",
        "REDIS_URL": "redis://cache:6379/2",
        "TELEMETRY_KEY_PREFIX": "{telemetry}",
        "TELEMETRY_REDIS_TIMEOUT": "0.25",
        "TELEMETRY_REDIS_RETRIES": "0",
        "TELEMETRY_API_RETRY_AFTER": "2",
        "TELEMETRY_API_PROXY_HOPS": "1",
    }
    config = ApiConfig.from_env(env)
    assert (config.host, config.port, config.workers, config.threads) == ("0.0.0.0", 9000, 3, 2)
    assert (config.redis_url, config.key_prefix) == ("redis://cache:6379/2", "{telemetry}")
    assert (config.redis_timeout, config.redis_retries, config.retry_after) == (0.25, 0, 2)
    assert config.proxy_hops == 1
    assert ApiConfig.from_env(config.to_env()) == config
    both = {"REDIS_URL": "redis://a/0", "TELEMETRY_REDIS_URL": "redis://b/0"}
    assert ApiConfig.from_env(both).redis_url == "redis://b/0"


BAD_VALUES = [
    ("TELEMETRY_API_BIND", "8080"),
    ("TELEMETRY_API_WORKERS", "0"),
    ("TELEMETRY_API_WORKERS", "many"),
    ("TELEMETRY_API_THREADS", "65"),
    ("TELEMETRY_REDIS_URL", "http://localhost:6379"),
    ("TELEMETRY_KEY_PREFIX", "has space"),
    ("TELEMETRY_KEY_PREFIX", "x" * 65),
    ("TELEMETRY_REDIS_TIMEOUT", "0"),
    ("TELEMETRY_REDIS_TIMEOUT", "inf"),
    ("TELEMETRY_REDIS_RETRIES", "-1"),
    ("TELEMETRY_API_RETRY_AFTER", "0"),
    ("TELEMETRY_API_PROXY_HOPS", "9"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES)
def test_bad_value_names_variable_and_value(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ApiConfig.from_env({variable: value})
    assert variable in str(caught.value)
    assert repr(value) in str(caught.value)


def test_cli_option_overrides_and_bad_values_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api_service.cli import resolve

    parser = cli.build_parser()
    args = parser.parse_args(["api", "--workers", "2", "--bind", "127.0.0.1:9999"])
    config = resolve(args, {"TELEMETRY_API_WORKERS": "5", "TELEMETRY_API_THREADS": "3"})
    assert (config.workers, config.port, config.threads) == (2, 9999, 3)
    monkeypatch.setenv("TELEMETRY_API_THREADS", "0")
    assert cli.main(["api", "--workers", "2"]) == 2
    assert "TELEMETRY_API_THREADS='0'" in capsys.readouterr().err
    monkeypatch.delenv("TELEMETRY_API_THREADS")
    assert cli.main(["api", "--redis-timeout", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--redis-timeout" in err and "'-1'" in err


def test_help_lists_every_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["api", "--help"])
    out = capsys.readouterr().out
    for variable in ("TELEMETRY_API_BIND", "TELEMETRY_API_WORKERS", "TELEMETRY_REDIS_TIMEOUT"):
        assert variable in out


def test_password_is_masked_in_logs() -> None:
    config = ApiConfig(redis_url="redis://user:s3cret@cache:6379/0")
    assert config.redis_url_for_logs == "redis://user:***@cache:6379/0"
    assert ApiConfig().redis_url_for_logs == "redis://127.0.0.1:6379/0"


def test_app_holds_only_a_client_and_fixed_settings(fake: fakeredis.FakeRedis) -> None:
    app = create_app(ApiConfig(key_prefix="p"), redis=fake)
    state = app.extensions[EXTENSION]
    assert isinstance(state, ApiState)
    assert state.redis is fake and state.keys == Keys("p")


def test_create_app_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEMETRY_KEY_PREFIX", "fromenv")
    monkeypatch.setenv("TELEMETRY_REDIS_TIMEOUT", "0.2")
    app = create_app()
    state = app.extensions[EXTENSION]
    assert state.keys == Keys("fromenv")
    kwargs = state.redis.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 0.2 and kwargs["socket_connect_timeout"] == 0.2
