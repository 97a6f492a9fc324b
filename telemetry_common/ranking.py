"""Rank switches by a metric: the first rows of each order, stored with every generation.

Sorting 100,000 values at read time costs about as much as reading the whole column, so a
top-N answer would cost nearly what the full listing costs. The writer stores instead, for
every metric, the switch ids of the first WINDOW rows in ascending and in descending order
(numeric order, ties in row order): a sorted page within the window is one short read. A
page past the window is sorted at read time (``sorted_rows``), with the same rule.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

WINDOW = 1_000  # rows of each order stored with a generation


def sorted_rows(
    values: npt.NDArray[np.float64], descending: bool, count: int | None = None
) -> npt.NDArray[np.intp]:
    """Return the row indices of the first ``count`` rows (all if None) in ``values``' order.

    Numeric order, largest first when ``descending``; rows with equal values keep row order.
    """
    key = -values if descending else values
    total = len(key)
    if count is None or count >= total:
        rows: npt.NDArray[np.intp] = np.argsort(key, kind="stable")
        return rows
    if count <= 0:
        return np.empty(0, dtype=np.intp)
    threshold = np.partition(key, count - 1)[count - 1]
    candidates = np.flatnonzero(key <= threshold)  # every row that may rank in the first count
    order = candidates[np.argsort(key[candidates], kind="stable")]
    return order[:count]
