"""The live feed: the model, its random generator, and the snapshot of the latest tick."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable

import numpy as np

from generator_service.catalogue import CATALOGUE, Metric, metric_names
from generator_service.config import GeneratorConfig
from generator_service.model import SwitchModel
from generator_service.render import header, id_block, render_csv
from generator_service.snapshot import Snapshot, make_snapshot

logger = logging.getLogger(__name__)


class Feed:
    """Steps the switches once per ``tick()`` and publishes the rendered CSV as a snapshot."""

    def __init__(
        self,
        config: GeneratorConfig,
        *,
        catalogue: tuple[Metric, ...] = CATALOGUE,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        # A fresh run id per process start: a restarted generator never repeats a tag.
        self.run_id = secrets.token_hex(6)
        self.model = SwitchModel(
            config.switches,
            np.random.default_rng(config.seed),
            spike_probability=config.spike_probability,
            catalogue=catalogue,
        )
        self._wall_clock = wall_clock
        self._header = header(metric_names(catalogue))
        self._ids = id_block(self.model.ids)
        self._decimals = [metric.decimals for metric in catalogue]
        self._lock = threading.Lock()  # one tick at a time; readers never take it
        self.snapshot: Snapshot = self._publish(0)

    def render(self) -> bytes:
        """Return the CSV of the current values."""
        return render_csv(self._header, self._ids, self.model.values, self._decimals)

    def tick(self) -> Snapshot:
        """Step every value, render the CSV once and publish it; return the new snapshot."""
        with self._lock:
            self.model.step()
            return self._publish(self.snapshot.tick + 1)

    def _publish(self, tick: int) -> Snapshot:
        snapshot = make_snapshot(self.run_id, tick, self._wall_clock(), self.render())
        self.snapshot = snapshot  # the single assignment readers see
        if self.model.last_spikes:
            logger.debug("tick %d: %d spike(s)", tick, self.model.last_spikes)
        return snapshot
