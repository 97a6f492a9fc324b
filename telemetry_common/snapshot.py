"""The snapshot: one whole table of the source, as written to and read from Redis."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Fields of the meta hash, in the order the reader asks for them.
META_FIELDS = (
    "generation",
    "written_at",
    "fetched_at",
    "source_time",
    "source_etag",
    "source_tick",
    "ttl",
    "switches",
    "metrics",
    "snapshot",
)


@dataclass(frozen=True)
class Table:
    """A validated table: switch ids (rows), metric names (columns), values as source text.

    ``cells`` is a numpy matrix of byte strings, shape (switches, metrics), holding each value
    exactly as the source wrote it; the writer encodes it for Redis without a Python loop.
    """

    switches: list[str]
    metrics: list[str]
    cells: npt.NDArray[np.bytes_]

    @classmethod
    def from_rows(cls, switches: list[str], metrics: list[str], rows: list[list[bytes]]) -> Table:
        """Build a table from one list of value texts per switch."""
        cells = np.array(rows, dtype=np.bytes_).reshape(len(switches), len(metrics))
        return cls(switches, metrics, cells)

    @property
    def values(self) -> list[bytes]:
        """Return every value, row by row."""
        flat: list[bytes] = self.cells.reshape(-1).tolist()
        return flat

    def value(self, row: int, column: int) -> bytes:
        """Return the text of one cell."""
        return bytes(self.cells[row, column])

    def column(self, column: int) -> list[bytes]:
        """Return one metric's values in switch order."""
        values: list[bytes] = self.cells[:, column].tolist()
        return values

    def row(self, row: int) -> list[bytes]:
        """Return one switch's values in metric order."""
        values: list[bytes] = self.cells[row].tolist()
        return values


@dataclass(frozen=True)
class SourceInfo:
    """Where a table came from: the source's tag, tick and tick time, and when it was fetched."""

    etag: str = ""
    tick: str = ""
    tick_time: float | None = None
    fetched_at: float = 0.0


@dataclass(frozen=True)
class SnapshotInfo:
    """What a reader learns about the snapshot it read."""

    generation: int
    written_at: float
    fetched_at: float
    source_time: float
    source_etag: str
    ttl: int
    expires_in: float  # seconds before the snapshot's keys expire
    switch_count: int
    metric_count: int
    snapshot: str = ""  # random id of this snapshot, unique for good (unlike the generation)
    previous: int | None = None  # the generation this one replaced when it was published

    def age(self, now: float | None = None) -> float:
        """Return how old the data is: seconds since the source produced it (never negative)."""
        return max(0.0, (time.time() if now is None else now) - self.source_time)
