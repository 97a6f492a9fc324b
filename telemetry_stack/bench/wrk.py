"""The optional wrk engine (``--engine wrk``): pure throughput, answers not checked.

wrk (C, one event loop per thread) sends more requests per CPU second than Python can, so it
finds the ceiling of a fast deployment. The requests are the same random mix, drawn here in
advance and cycled through by a Lua script; the script counts statuses and the largest data age,
and prints its summary as one JSON line. wrk counts an answer later than --timeout both under
its status and as a timeout; it has no per-answer checks.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from typing import Any

from telemetry_common.settings import ConfigError
from telemetry_stack.bench.answers import Catalog, Requests
from telemetry_stack.bench.options import BenchSettings
from telemetry_stack.bench.stats import CONNECTION, NO_ANSWER, STATUS, TIMEOUT, Tally

logger = logging.getLogger(__name__)

DRAWN = 4096  # requests drawn in advance, cycled through from a random start per thread
MARK = "telemetry-bench-wrk "

SCRIPT = """
local paths = {%(paths)s}
local requests, at = {}, 0
counts, max_age = {}, -1
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  for i, path in ipairs(paths) do requests[i] = wrk.format("GET", path) end
  at = math.random(#requests) - 1
end
function request() at = at %% #requests + 1; return requests[at] end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  local age = tonumber(headers["x-telemetry-age"] or headers["X-Telemetry-Age"] or "")
  if age and age > max_age then max_age = age end
end
function done(summary, latency, requests)
  local total, age, parts = {}, -1, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + n end
    age = math.max(age, thread:get("max_age"))
  end
  for status, n in pairs(total) do table.insert(parts, string.format('"%%d":%%d', status, n)) end
  local e = summary.errors
  io.write(string.format('%(mark)s{"duration_us":%%d,"statuses":{%%s},"max_age":%%s,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"timeout":%%d,"latency_us":{"min":%%d,' ..
    '"p50":%%d,"p90":%%d,"p99":%%d,"max":%%d}}\\n', summary.duration, table.concat(parts, ","),
    age >= 0 and tostring(age) or "null", e.connect, e.read, e.write, e.timeout, latency.min,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def _script(settings: BenchSettings, catalog: Catalog) -> str:
    base = settings.url.split("/", 3)[3] if settings.url.count("/") > 2 else ""
    requests = Requests(catalog, dict(settings.mix), settings.list_size, settings.seed)
    paths = [(f"/{base}" if base else "") + requests.draw().target.decode() for _ in range(DRAWN)]
    return SCRIPT % {"paths": ",".join(json.dumps(path) for path in paths), "mark": MARK}


def run(
    url: str,
    seconds: float,
    connections: int,
    *,
    threads: int = 1,
    timeout: float | None = None,
    script: str | None = None,
    headers: Sequence[str] = (),
) -> str:
    """Run wrk once on ``url`` (with ``--latency``) and return its output; raise if it fails."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    if timeout is not None:
        command.append(f"--timeout={max(1, round(timeout))}s")
    command.append("--latency")
    command += [*(["-s", script] if script else []), *(x for h in headers for x in ("-H", h))]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout)[-300:]}")
    return done.stdout


def summary(out: str) -> tuple[float, float, float]:
    """Return requests per second, p50 and p99 in milliseconds from wrk's own report."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50, p99 = (re.search(rf"\b{p}%\s+([\d.]+)(us|ms|s)\b", out) for p in ("50", "99"))
    if rps is None or p50 is None or p99 is None:
        raise RuntimeError(f"no summary in wrk's output: {out[-300:]}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return float(rps[1]), float(p50[1]) * scale[p50[2]], float(p99[1]) * scale[p99[2]]


def _wrk(settings: BenchSettings, script: str, seconds: float) -> dict[str, Any]:
    out = run(
        settings.url,
        seconds,
        settings.concurrency,
        threads=settings.processes,
        timeout=settings.timeout,
        script=script,
    )
    line = next((x for x in out.splitlines() if x.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {out[-300:]}")
    found: dict[str, Any] = json.loads(line.removeprefix(MARK))
    return found


def run_wrk(settings: BenchSettings, catalog: Catalog) -> tuple[Tally, dict[str, float | None]]:
    """Run wrk for the warm-up, then for the duration; return the tally and latency in ms."""
    if shutil.which("wrk") is None:
        raise ConfigError("--engine wrk: wrk is not on PATH (Debian and Ubuntu: apt install wrk)")
    if settings.duration is None:
        raise ConfigError("--engine wrk runs for a --duration, not for a number of --requests")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(_script(settings, catalog))
    try:
        if settings.warmup >= 0.5:
            _wrk(settings, handle.name, settings.warmup)
        found = _wrk(settings, handle.name, settings.duration)
    finally:
        os.unlink(handle.name)
    tally = Tally(wall_s=found["duration_us"] / 1e6)
    tally.statuses = {int(status): n for status, n in found["statuses"].items()}
    broken = found["connect"] + found["read"] + found["write"]
    if broken:
        tally.statuses[NO_ANSWER] = broken
        tally.errors[CONNECTION] = broken
    if found["timeout"]:
        tally.errors[TIMEOUT] = found["timeout"]
    failed = sum(n for status, n in tally.statuses.items() if status not in (NO_ANSWER, 200))
    if failed:
        tally.errors[STATUS] = failed
    tally.max_age = found["max_age"]
    latency = {name: us / 1000 for name, us in found["latency_us"].items()}
    return tally, latency if tally.requests else dict.fromkeys(latency)
