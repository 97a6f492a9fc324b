"""The generator's settings: a frozen dataclass read from ``TELEMETRY_*`` variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from telemetry_common.options import Setting
from telemetry_common.settings import (
    PREFIX,
    env_bind,
    env_float,
    env_int,
    env_optional_int,
)

BIND = PREFIX + "GENERATOR_BIND"
SWITCHES = PREFIX + "SWITCHES"
TICK_INTERVAL = PREFIX + "TICK_INTERVAL"
SPIKE_PROBABILITY = PREFIX + "SPIKE_PROBABILITY"
SEED = PREFIX + "SEED"

DEFAULT_BIND = "127.0.0.1:9001"
MAX_SWITCHES = 1_000_000


SETTINGS: tuple[Setting, ...] = (
    Setting("--bind", BIND, DEFAULT_BIND, "HOST:PORT to serve /counters and /healthz on"),
    Setting("--switches", SWITCHES, "100", f"number of switches, 1..{MAX_SWITCHES:,}"),
    Setting("--tick-interval", TICK_INTERVAL, "1", "seconds between ticks, greater than 0"),
    Setting(
        "--spike-probability",
        SPIKE_PROBABILITY,
        "0.0001",
        "chance per value per tick of a spike, 0..1",
    ),
    Setting("--seed", SEED, "none", "seed of the random generator, for a reproducible run"),
)


@dataclass(frozen=True)
class GeneratorConfig:
    """Resolved settings of one generator process."""

    host: str = "127.0.0.1"
    port: int = 9001
    switches: int = 100
    tick_interval: float = 1.0
    spike_probability: float = 0.0001
    seed: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GeneratorConfig:
        """Read every setting from ``env``; raise ConfigError naming a bad variable and value."""
        host, port = env_bind(env, BIND, DEFAULT_BIND)
        return cls(
            host=host,
            port=port,
            switches=env_int(env, SWITCHES, cls.switches, minimum=1, maximum=MAX_SWITCHES),
            tick_interval=env_float(
                env, TICK_INTERVAL, cls.tick_interval, minimum=0.0, exclusive_minimum=True
            ),
            spike_probability=env_float(
                env, SPIKE_PROBABILITY, cls.spike_probability, minimum=0.0, maximum=1.0
            ),
            seed=env_optional_int(env, SEED),
        )

    def to_env(self) -> dict[str, str]:
        """Return the variables that rebuild this config (for a worker process)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        env = {
            BIND: f"{host}:{self.port}",
            SWITCHES: str(self.switches),
            TICK_INTERVAL: repr(self.tick_interval),
            SPIKE_PROBABILITY: repr(self.spike_probability),
        }
        if self.seed is not None:
            env[SEED] = str(self.seed)
        return env
