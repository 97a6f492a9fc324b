"""The generator's settings: a frozen dataclass read from ``TELEMETRY_*`` variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telemetry_common.options import Setting
from telemetry_common.settings import bind, host_port, number, whole

MAX_SWITCHES = 1_000_000


def optional_whole(name: str, value: str) -> int | None:
    """Return a whole number of at least 0, or None for the declared default ("")."""
    return whole(0)(name, value) if value else None


BIND = Setting(
    "--bind", "TELEMETRY_GENERATOR_BIND", "127.0.0.1:9001",
    "HOST:PORT to serve /counters and /healthz on", bind,
)  # fmt: skip
SWITCHES = Setting(
    "--switches", "TELEMETRY_SWITCHES", "100", f"number of switches, 1..{MAX_SWITCHES:,}",
    whole(1, MAX_SWITCHES),
)  # fmt: skip
TICK_INTERVAL = Setting(
    "--tick-interval", "TELEMETRY_TICK_INTERVAL", "1", "seconds between ticks",
    number(above=True),
)  # fmt: skip
SPIKE_PROBABILITY = Setting(
    "--spike-probability", "TELEMETRY_SPIKE_PROBABILITY", "0.0001",
    "chance per value per tick of a spike, 0..1", number(0.0, 1.0),
)  # fmt: skip
SEED = Setting(
    "--seed", "TELEMETRY_SEED", "", "seed of the random generator, for a reproducible run",
    optional_whole, shown="unset",
)  # fmt: skip

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
