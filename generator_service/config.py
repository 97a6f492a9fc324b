"""The generator's settings: a frozen dataclass read from ``TELEMETRY_*`` variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telemetry_common.options import Setting
from telemetry_common.settings import host_port
from telemetry_common.variables import GENERATOR_BIND as BIND
from telemetry_common.variables import SEED, SPIKE_PROBABILITY, SWITCHES, TICK_INTERVAL

SETTINGS: tuple[Setting[Any], ...] = (BIND, SWITCHES, TICK_INTERVAL, SPIKE_PROBABILITY, SEED)


@dataclass(frozen=True)
class GeneratorConfig:
    """Resolved settings of one generator process."""

    host: str = BIND.value[0]
    port: int = BIND.value[1]
    switches: int = SWITCHES.value
    tick_interval: float = TICK_INTERVAL.value
    spike_probability: float = SPIKE_PROBABILITY.value
    seed: int | None = SEED.value

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GeneratorConfig:
        """Read every setting from ``env``; raise ConfigError naming a bad variable and value."""
        host, port = BIND.read(env)
        return cls(
            host=host,
            port=port,
            switches=SWITCHES.read(env),
            tick_interval=TICK_INTERVAL.read(env),
            spike_probability=SPIKE_PROBABILITY.read(env),
            seed=SEED.read(env),
        )

    def to_env(self) -> dict[str, str]:
        """Return the variables that rebuild this config (for a worker process)."""
        env = {
            BIND.variable: host_port(self.host, self.port),
            SWITCHES.variable: str(self.switches),
            TICK_INTERVAL.variable: repr(self.tick_interval),
            SPIKE_PROBABILITY.variable: repr(self.spike_probability),
        }
        if self.seed is not None:
            env[SEED.variable] = str(self.seed)
        return env
