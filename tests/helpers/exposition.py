"""Read the API's Prometheus answers with prometheus_client's own parsers."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families as prometheus_text

from api_service.families import family_of

Samples = dict[tuple[str, str], float]


def parse(body: str, content_type: str) -> dict[str, tuple[str, Samples]]:
    """Return each family's type and samples, keyed by (sample name, switch label)."""
    parser = openmetrics if content_type.startswith("application/openmetrics-text") else None
    families = (parser or prometheus_text)(body)
    return {
        family.name: (
            family.type,
            {(s.name, s.labels.get("switch", "")): s.value for s in family.samples},
        )
        for family in families
    }


def exposed_value(metric: str, text: bytes) -> float:
    """Return the value GetMetric answers as ``text`` in the family's unit, converted exactly."""
    multiplier, power = family_of(metric).factor
    return float(Decimal(text.decode()) * multiplier * Decimal(10) ** power)


def expected(switches: list[str], metrics: list[str], rows: list[list[bytes]]) -> Samples:
    """Return the samples a snapshot of these rows must expose, keyed like ``parse``."""
    return {
        (family_of(metric).sample, switch): exposed_value(metric, row[column])
        for column, metric in enumerate(metrics)
        for switch, row in zip(switches, rows, strict=True)
    }


def switch_samples(parsed: dict[str, tuple[str, Samples]]) -> Samples:
    """Return every sample that carries a switch label."""
    return {
        key: value for _, samples in parsed.values() for key, value in samples.items() if key[1]
    }
