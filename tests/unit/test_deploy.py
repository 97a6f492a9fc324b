"""deploy/prometheus.yml and the Grafana dashboard use what /telemetry/prometheus serves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from ruamel.yaml import YAML

from telemetry_common.catalogue import MEANINGS
from tests.helpers.api import make_app, put_snapshot

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "switch-telemetry.json"
SCRAPE = ROOT / "deploy" / "prometheus.yml"
FAMILY = re.compile(r"\btelemetry_[a-z0-9_]+\b")
GRAFANA_VARIABLES = {"$top": "10", "$__rate_interval": "1m"}


def served_names() -> set[str]:
    """Return every sample name the endpoint serves for a snapshot of the known metrics."""
    client = fakeredis.FakeRedis()
    metrics = [meaning.name for meaning in MEANINGS]
    put_snapshot(client, metrics=metrics, rows=[[b"1"] * len(metrics)] * 3)
    body = make_app(client).test_client().get("/telemetry/prometheus").get_data(as_text=True)
    return {line.split("{")[0].split()[0] for line in body.splitlines() if not line.startswith("#")}


def queries() -> list[str]:
    """Return the PromQL of every target of every panel, rows included."""

    def walk(panels: list[Any]) -> list[str]:
        found = []
        for panel in panels:
            found += [target["expr"] for target in panel.get("targets", [])]
            found += walk(panel.get("panels", []))
        return found

    return walk(json.loads(DASHBOARD.read_text())["panels"])


def test_every_dashboard_query_names_only_families_the_endpoint_serves() -> None:
    served = served_names()
    assert "telemetry_switch_latency_seconds" in served
    found = queries()
    assert len(found) >= 10
    for expr in found:
        names = set(FAMILY.findall(expr))
        assert names, f"{expr!r} names no family"
        assert names <= served, f"{expr!r} names {sorted(names - served)}, not served"


def test_the_scrape_config_points_at_the_endpoint() -> None:
    config = YAML(typ="safe").load(SCRAPE.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["switch-telemetry"]["metrics_path"] == "/telemetry/prometheus"
    for job in ("telemetry-api", "telemetry-refresher"):  # the /metrics of TELEMETRY_METRICS_TOKEN
        assert jobs[job]["authorization"] == {"type": "Bearer", "credentials_file": "metrics-token"}
    rules = {rule.rule for rule in make_app(fakeredis.FakeRedis()).url_map.iter_rules()}
    assert {job.get("metrics_path", "/metrics") for job in jobs.values()} <= rules


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not on PATH")
def test_promtool_accepts_the_scrape_config_and_every_query(tmp_path: Path) -> None:
    config = tmp_path / SCRAPE.name  # beside the bearer token file it names, as deployed
    config.write_text(SCRAPE.read_text())
    (tmp_path / "metrics-token").write_text("a-token\n")
    checked = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True)
    assert checked.returncode == 0, checked.stderr
    exprs = []
    for expr in queries():
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        exprs.append(expr)
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query{n}", "expr": expr} for n, expr in enumerate(exprs)
                ],
            }
        ]
    }
    path = tmp_path / "rules.json"  # YAML is a superset of JSON
    path.write_text(json.dumps(rules))
    checked = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
