"""Settings from TELEMETRY_* variables and options; bad values exit with status 2."""

from __future__ import annotations

import pytest

from generator_service.config import GeneratorConfig
from telemetry_common.settings import ConfigError
from telemetry_stack import cli


def test_defaults() -> None:
    config = GeneratorConfig.from_env({})
    assert config == GeneratorConfig(
        host="127.0.0.1",
        port=9001,
        switches=100,
        tick_interval=1.0,
        spike_probability=0.0001,
        seed=None,
    )


def test_values_from_the_environment_round_trip() -> None:
    env = {
        "TELEMETRY_GENERATOR_BIND": "[::1]:9100",
        "TELEMETRY_SWITCHES": "2500",
        "TELEMETRY_TICK_INTERVAL": "0.25",
        "TELEMETRY_SPIKE_PROBABILITY": "1e-05",
        "TELEMETRY_SEED": "7",
    }
    config = GeneratorConfig.from_env(env)
    assert (config.host, config.port, config.switches) == ("::1", 9100, 2500)
    assert (config.tick_interval, config.spike_probability, config.seed) == (0.25, 1e-05, 7)
    assert GeneratorConfig.from_env(config.to_env()) == config


BAD_VALUES = [
    ("TELEMETRY_SWITCHES", "0"),
    ("TELEMETRY_SWITCHES", "ten"),
    ("TELEMETRY_SWITCHES", "2000000"),
    ("TELEMETRY_TICK_INTERVAL", "0"),
    ("TELEMETRY_TICK_INTERVAL", "-1"),
    ("TELEMETRY_TICK_INTERVAL", "nan"),
    ("TELEMETRY_SPIKE_PROBABILITY", "1.5"),
    ("TELEMETRY_SPIKE_PROBABILITY", "-0.1"),
    ("TELEMETRY_SEED", "-3"),
    ("TELEMETRY_SEED", "abc"),
    ("TELEMETRY_GENERATOR_BIND", "localhost"),
    ("TELEMETRY_GENERATOR_BIND", "127.0.0.1:70000"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES)
def test_bad_value_names_variable_and_value(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        GeneratorConfig.from_env({variable: value})
    assert variable in str(caught.value)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES[:4])
def test_bad_environment_exits_2(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    assert cli.main(["generator"]) == 2
    err = capsys.readouterr().err
    assert variable in err and repr(value) in err


def test_bad_option_exits_2_naming_option_and_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["generator", "--spike-probability", "2"]) == 2
    err = capsys.readouterr().err
    assert "--spike-probability" in err
    assert "TELEMETRY_SPIKE_PROBABILITY='2'" in err


def test_option_overrides_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator_service.cli import resolve

    monkeypatch.setenv("TELEMETRY_SWITCHES", "5")
    args = cli.build_parser().parse_args(["generator", "--switches", "9", "--seed", "3"])
    config = resolve(args, {"TELEMETRY_SWITCHES": "5", "TELEMETRY_TICK_INTERVAL": "2"})
    assert (config.switches, config.seed, config.tick_interval) == (9, 3, 2.0)


def test_help_names_every_option_variable_and_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["generator", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option, variable, default in [
        ("--bind", "TELEMETRY_GENERATOR_BIND", "127.0.0.1:9001"),
        ("--switches", "TELEMETRY_SWITCHES", "100"),
        ("--tick-interval", "TELEMETRY_TICK_INTERVAL", "1"),
        ("--spike-probability", "TELEMETRY_SPIKE_PROBABILITY", "0.0001"),
        ("--seed", "TELEMETRY_SEED", "unset"),
    ]:
        assert option in text
        assert f"(env {variable}, default {default})" in text
