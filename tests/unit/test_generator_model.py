"""The vectorised step: bounds, counters, spikes and reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from generator_service.catalogue import CATALOGUE
from generator_service.model import SwitchModel, switch_ids


def model(switches: int, seed: int, spike_probability: float = 0.0) -> SwitchModel:
    rng = np.random.default_rng(seed)
    return SwitchModel(switches, rng, spike_probability=spike_probability)


def test_switch_ids_are_one_to_n() -> None:
    assert switch_ids(3) == ("1", "2", "3")
    assert model(12, seed=0).ids[-1] == "12"


@pytest.mark.parametrize("spike_probability", [0.0001, 0.2])
def test_values_stay_within_bounds_and_counters_never_decrease(spike_probability: float) -> None:
    m = model(50, seed=7, spike_probability=spike_probability)
    low = np.array([metric.low for metric in CATALOGUE])
    high = np.array([metric.high for metric in CATALOGUE])
    start = m.values.copy()
    assert ((start >= low) & (start <= high)).all()
    previous = start.copy()
    for _ in range(2000):
        m.step()
        values = m.values
        assert np.isfinite(values).all()
        assert ((values >= low) & (values <= high)).all()
        assert (values[:, m.counter] >= previous[:, m.counter]).all()
        previous = values.copy()
    counters = m.values[:, m.counter]
    assert (counters == np.floor(counters)).all()
    assert (counters > start[:, m.counter]).all()  # they do count
    gauges = m.values[:, m.gauge]
    assert not np.array_equal(gauges, start[:, m.gauge])  # and the gauges move


def test_gauges_reach_both_ways() -> None:
    m = model(200, seed=3)
    start = m.values.copy()
    for _ in range(50):
        m.step()
    moved = m.values[:, m.gauge] - start[:, m.gauge]
    assert (moved > 0).any()
    assert (moved < 0).any()


def test_spike_rate_matches_the_probability() -> None:
    probability, switches, ticks = 0.01, 1000, 100
    m = model(switches, seed=2024, spike_probability=probability)
    seen = reported = 0
    for _ in range(ticks):
        before = m.values.copy()
        m.step()
        # A normal step moves a value by at most its step size; a spike by far more.
        seen += int((np.abs(m.values - before) > m.step_size).sum())
        reported += m.last_spikes
    trials = switches * len(CATALOGUE) * ticks
    expected = probability * trials
    sigma = (trials * probability * (1 - probability)) ** 0.5
    assert seen == reported
    assert abs(seen - expected) < 4 * sigma


def test_no_spikes_at_probability_zero() -> None:
    m = model(100, seed=5, spike_probability=0.0)
    for _ in range(20):
        before = m.values.copy()
        m.step()
        assert (np.abs(m.values - before) <= m.step_size).all()
        assert m.last_spikes == 0


def test_same_seed_same_values_other_seed_other_values() -> None:
    a, b, c = (model(100, seed, spike_probability=0.05) for seed in (11, 11, 12))
    for _ in range(30):
        a.step()
        b.step()
        c.step()
    assert np.array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
