"""Command-line options that mirror ``TELEMETRY_*`` variables: one table, shared by every role.

Each role lists its settings once (option, variable, default, meaning); the same list builds
its ``--help``, and the options given on the command line are applied on top of the
environment before the role's settings dataclass reads it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from telemetry_common.settings import PREFIX, ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Setting:
    """One setting as the command line shows it: option, variable, default and meaning."""

    option: str
    variable: str
    default: str
    help: str

    @property
    def dest(self) -> str:
        """Return the argparse attribute name of the option."""
        return self.option.removeprefix("--").replace("-", "_")


def add_setting_options(parser: argparse.ArgumentParser, settings: Sequence[Setting]) -> None:
    """Add one option per setting; each overrides its environment variable."""
    for setting in settings:
        parser.add_argument(
            setting.option,
            dest=setting.dest,
            metavar=setting.variable.removeprefix(PREFIX),
            default=None,
            help=f"{setting.help} (env {setting.variable}, default {setting.default})",
        )


def resolve_settings(
    args: argparse.Namespace,
    env: dict[str, str],
    settings: Sequence[Setting],
    build: Callable[[dict[str, str]], T],
) -> T:
    """Put the given options into ``env``, then build the settings from it.

    An error about a value that came from an option names the option too.
    """
    given = {}
    for setting in settings:
        value = getattr(args, setting.dest, None)
        if value is not None:
            env[setting.variable] = value
            given[setting.variable] = setting.option
    try:
        return build(env)
    except ConfigError as exc:
        variable = str(exc).partition("=")[0]
        if variable in given:
            raise ConfigError(f"{given[variable]}: {exc}") from None
        raise
