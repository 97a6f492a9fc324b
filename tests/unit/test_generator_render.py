"""The CSV renderer: shape, plain decimals, and agreement with Python's own formatting."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from generator_service import create_app
from generator_service.catalogue import CATALOGUE, metric_names
from generator_service.config import GeneratorConfig
from generator_service.feed import Feed
from generator_service.render import header, id_block, number_block, render_csv


def test_csv_shape_of_a_feed() -> None:
    switches = 37
    feed = Feed(GeneratorConfig(switches=switches, seed=1, spike_probability=0.1))
    for _ in range(5):
        feed.tick()
    body = feed.snapshot.body
    text = body.decode("ascii")
    assert text.endswith("\n")
    assert "\r" not in text
    assert "e" not in text.split("\n", 1)[1].lower()  # no exponent, nan or inf
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["switch", *metric_names()]
    assert len(rows) == 1 + switches
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, switches + 1)]
    counter_columns = [i + 1 for i, m in enumerate(CATALOGUE) if m.kind == "counter"]
    for row in rows[1:]:
        assert len(row) == 1 + len(CATALOGUE)
        for index, cell in enumerate(row[1:], start=1):
            assert math.isfinite(float(cell))
            if index in counter_columns:
                assert cell.isdigit()


def test_rendered_values_match_the_model() -> None:
    feed = Feed(GeneratorConfig(switches=20, seed=9))
    feed.tick()
    rows = list(csv.reader(io.StringIO(feed.snapshot.body.decode())))[1:]
    parsed = np.array([[float(cell) for cell in row[1:]] for row in rows])
    tolerance = np.array([0.5 * 10.0**-m.decimals for m in CATALOGUE]) + 1e-9
    assert (np.abs(parsed - feed.model.values) <= tolerance).all()


@pytest.mark.parametrize("decimals", [0, 1, 2, 3, 6])
def test_number_block_agrees_with_python_formatting(decimals: int) -> None:
    rng = np.random.default_rng(decimals)
    values = np.concatenate(
        [
            rng.uniform(-1000, 1000, 300),
            rng.uniform(0, 1, 100),
            [0.0, -0.0, 1.0, 9.999999, 10.0, 99.995, 1e12, -5e-9, 123456789.0],
        ]
    )
    block = number_block(values, decimals)
    cells = block.tobytes().replace(b"\0", b"").decode().split(",")[1:]
    scaled = np.rint(values * 10.0**decimals).astype(np.int64)
    expected = []
    for q in scaled.tolist():
        text = f"{abs(q) / 10**decimals:.{decimals}f}" if decimals else str(abs(q))
        expected.append(("-" if q < 0 else "") + text)
    assert cells == expected


def test_render_csv_with_opaque_ids() -> None:
    body = render_csv(
        header(["a", "b"]),
        id_block(["sw-1", "x", "core.7"]),
        np.array([[1.5, 2.0], [0.0, 30.0], [12.25, 4.0]]),
        [2, 0],
    )
    assert body == b"switch,a,b\nsw-1,1.50,2\nx,0.00,30\ncore.7,12.25,4\n"


def test_render_refuses_bad_values_and_ids() -> None:
    with pytest.raises(ValueError, match="finite"):
        render_csv(b"h\n", id_block(["1"]), np.array([[np.nan]]), [2])
    with pytest.raises(ValueError, match="commas"):
        id_block(["a,b"])


def test_create_app_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEMETRY_SWITCHES", "4")
    client = create_app().test_client()
    assert client.get("/counters").data.count(b"\n") == 5
