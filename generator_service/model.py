"""The switches x metrics matrix and its vectorised random step."""

from __future__ import annotations

import numpy as np

from generator_service.catalogue import CATALOGUE, Kind, Metric

# A counter spike adds this many times its normal maximum increment (a burst of requests).
COUNTER_BURST = (10.0, 50.0)
# A gauge spike covers this fraction of the way to its farther bound (at least a quarter
# of its range, which the catalogue keeps at five times its largest normal step or more).
GAUGE_JUMP = (0.5, 1.0)


def switch_ids(count: int) -> tuple[str, ...]:
    """Return the ids of ``count`` switches: "1".."N"."""
    return tuple(str(number) for number in range(1, count + 1))


class SwitchModel:
    """The current value of every metric of every switch, moved one step per tick."""

    def __init__(
        self,
        switches: int,
        rng: np.random.Generator,
        *,
        spike_probability: float = 0.0,
        catalogue: tuple[Metric, ...] = CATALOGUE,
    ) -> None:
        self.catalogue = catalogue
        self.ids = switch_ids(switches)
        self.spike_probability = spike_probability
        self.last_spikes = 0
        self._rng = rng
        self.low = np.array([m.low for m in catalogue], dtype=np.float64)
        self.high = np.array([m.high for m in catalogue], dtype=np.float64)
        self.step_size = np.array([m.step for m in catalogue], dtype=np.float64)
        self.counter = np.array([m.kind is Kind.COUNTER for m in catalogue])
        self.gauge = ~self.counter
        # One uniform draw u in [0, 1) becomes (2u - 1) * step for a gauge, u * (step + 1)
        # floored for a counter (a whole increment in 0..step).
        self._scale = np.where(self.counter, self.step_size + 1, 2 * self.step_size)
        self._offset = np.where(self.counter, 0.0, -self.step_size)
        start_low = np.array([m.initial[0] for m in catalogue], dtype=np.float64)
        start_high = np.array([m.initial[1] for m in catalogue], dtype=np.float64)
        self.values = rng.uniform(start_low, start_high, size=(switches, len(catalogue)))
        np.floor(self.values, out=self.values, where=self.counter)

    def step(self) -> None:
        """Move every value one random step, with spikes, keeping each within its bounds."""
        values = self.values
        delta = self._rng.random(values.shape)
        delta *= self._scale
        delta += self._offset
        np.floor(delta, out=delta, where=self.counter)
        self.last_spikes = self._add_spikes(delta)
        values += delta
        # Reflect a gauge that stepped over a bound back inside; clip what is left (counters).
        np.subtract(2 * self.high, values, out=values, where=(values > self.high) & self.gauge)
        np.subtract(2 * self.low, values, out=values, where=(values < self.low) & self.gauge)
        np.clip(values, self.low, self.high, out=values)

    def _add_spikes(self, delta: np.ndarray) -> int:
        """Replace the step of randomly chosen values by a spike; return how many."""
        size = delta.size
        count = int(self._rng.binomial(size, self.spike_probability))
        if count == 0:
            return 0
        flat = self._rng.choice(size, size=count, replace=False)
        columns = flat % delta.shape[1]
        old = self.values.reshape(-1)[flat]
        low, high = self.low[columns], self.high[columns]
        farther = np.where(old - low > high - old, low, high)
        jump = (farther - old) * self._rng.uniform(*GAUGE_JUMP, size=count)
        burst = np.floor(self.step_size[columns] * self._rng.uniform(*COUNTER_BURST, size=count))
        delta.reshape(-1)[flat] = np.where(self.counter[columns], burst, jump)
        return count
