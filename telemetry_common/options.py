"""Settings declared once: each variable's option, name, default, help and rule, in one row.

The same row reads the variable from the environment (``read``), builds the command-line option
that overrides it (``add_setting_options``), and is what the test of the README's configuration
table compares against. A role lists its rows in ``SETTINGS``; its frozen settings dataclass
reads them in ``from_env``. telemetry_common.variables holds every row.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from telemetry_common.settings import PREFIX, ConfigError, Rule, raw

T = TypeVar("T")
B = TypeVar("B")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One variable: its option ("" for none), name, default text, help and rule.

    ``default`` is read by the rule like a value from the environment. ``shown`` replaces it in
    the help and the README when the default is computed ("the number of cores"), and
    ``fallback`` names other variables read, in order, when this one is unset.
    """

    option: str
    variable: str
    default: str
    help: str
    rule: Rule[T]
    shown: str = ""
    fallback: tuple[str, ...] = ()

    @property
    def dest(self) -> str:
        """Return the argparse attribute name of the option."""
        return self.option.removeprefix("--").replace("-", "_")

    @property
    def documented(self) -> str:
        """Return the default as the help and the README state it."""
        return self.shown or self.default

    @property
    def value(self) -> T:
        """Return the declared default as a value."""
        return self.rule(self.variable, self.default)

    def given(self, env: Mapping[str, str]) -> tuple[str, str] | None:
        """Return the variable (or fallback) set in ``env`` and its text, or None when unset."""
        for name in (self.variable, *self.fallback):
            text = raw(env, name)
            if text is not None:
                return name, text
        return None

    def read(self, env: Mapping[str, str], default: T | None = None) -> T:
        """Return the value set in ``env``, else ``default`` (a computed one), else the declared."""
        found = self.given(env)
        if found is not None:
            return self.rule(*found)
        return self.value if default is None else default


def add_setting_options(parser: argparse.ArgumentParser, settings: Sequence[Setting[Any]]) -> None:
    """Add one option per setting that has one; each overrides its environment variable."""
    for setting in settings:
        if setting.option:
            parser.add_argument(
                setting.option,
                dest=setting.dest,
                metavar=setting.variable.removeprefix(PREFIX),
                default=None,
                help=f"{setting.help} (env {setting.variable}, default {setting.documented})",
            )


@dataclass(frozen=True)
class Options(Generic[B]):
    """A command's settings: the options they add, and how they become its settings object."""

    settings: Sequence[Setting[Any]]
    build: Callable[[Mapping[str, str]], B]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add one option per setting; each overrides its environment variable."""
        add_setting_options(parser, self.settings)

    def resolve(self, args: argparse.Namespace, env: dict[str, str]) -> B:
        """Return the settings from ``env`` with the given options on top."""
        return resolve_settings(args, env, self.settings, self.build)


def resolve_settings(
    args: argparse.Namespace,
    env: dict[str, str],
    settings: Sequence[Setting[Any]],
    build: Callable[[dict[str, str]], B],
) -> B:
    """Put the given options into ``env``, then build the settings from it.

    An error about a value that came from an option names the option too.
    """
    given = {}
    for setting in settings:
        value = getattr(args, setting.dest, None) if setting.option else None
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
