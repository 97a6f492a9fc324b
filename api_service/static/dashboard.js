// The live dashboard: polls the API's ListMetrics once a second with If-None-Match and draws
// only when a new generation arrives. Everything it reads comes from the API's own answers:
// counters are shown as per-second rates (rate=true), the top table is the API's sort and limit.
"use strict";

const POLL_MS = 1000;
const TOP_N = 20;
const SPARK_POINTS = 120;
// viridis, sampled at 9 points (perceptually uniform, readable with colour-vision deficiency).
const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
  "#6ece58", "#fde725"];
const UNITS = JSON.parse(document.getElementById("units").textContent);
const COUNTERS = JSON.parse(document.getElementById("counters").textContent);
const $ = (id) => document.getElementById(id);

const view = {
  names: [], etag: null, generation: null, data: null, metric: null,
  sortBy: null, sortDown: true, picked: null, cursor: 0, history: [], rendered: 0, top: null,
  topAsked: 0,  // counts the top table's requests for a sort: only the latest one's answer counts
};
const sortKey = () => (view.sortDown ? "-" : "") + view.sortBy;  // "-Name" descending, "Name" up

function palette() {
  const rgb = VIRIDIS.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (rgb.length - 1), k = Math.min(Math.floor(x), rgb.length - 2);
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = rgb[k][c] + (rgb[k + 1][c] - rgb[k][c]) * (x - k);
  }
  return lut;
}
const LUT = palette();

const SHOWN = { degC: "°C" };
function unitOf(name) {
  const unit = SHOWN[UNITS[name]] || UNITS[name] || "";
  return COUNTERS.includes(name) ? unit + "/s" : unit;
}

function csvCells(line) {
  if (line.indexOf('"') < 0) return line.split(",");
  const cells = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '"' && line[i + 1] === '"') { cell += '"'; i++; }
    else if (ch === '"') quoted = !quoted;
    else if (ch === "," && !quoted) { cells.push(cell); cell = ""; }
    else cell += ch;
  }
  cells.push(cell);
  return cells;
}

function parseTable(text) {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const names = csvCells(lines[0]).slice(1), n = lines.length - 1;
  const switches = new Array(n), texts = names.map(() => new Array(n));
  const numbers = names.map(() => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const cells = csvCells(lines[r + 1]);
    switches[r] = cells[0];
    for (let c = 0; c < names.length; c++) {
      texts[c][r] = cells[c + 1];
      numbers[c][r] = cells[c + 1] === "" ? NaN : Number(cells[c + 1]);
    }
  }
  const index = new Map(switches.map((id, row) => [id, row]));
  return { names, switches, texts, numbers, index };
}

function setState(kind, label, detail) {
  $("status").className = "state-" + kind;
  document.body.classList.toggle("stale", kind !== "fresh");
  $("state").textContent = label;
  $("detail").hidden = !detail;
  $("detail").textContent = detail || "";
}

function showHeaders(response) {
  const generation = response.headers.get("X-Telemetry-Generation");
  const age = response.headers.get("X-Telemetry-Age");
  if (generation) $("generation").textContent = generation;
  if (age) $("age").textContent = Number(age).toFixed(1) + " s";
}

function explain503(text) {
  const detail = text.replace(/^\d+ [^:]*: /, "").trim();
  if (/unreachable/i.test(detail)) return ["unreachable", "Redis unreachable", detail];
  const since = /stale since (\S+)/.exec(detail);
  if (since) return ["stale", "stale since " + new Date(since[1]).toLocaleTimeString(), detail];
  return ["stale", "no fresh data", detail];
}

async function loadNames() {
  const response = await fetch("telemetry/metrics?format=json", { cache: "no-store" });
  if (!response.ok) return response;
  view.names = (await response.json()).metrics;
  view.etag = null;
  return null;
}

async function poll() {
  let wait = POLL_MS;
  try {
    const failed = view.names.length ? null : await loadNames();
    const response = failed || await fetchTable();
    wait = await handle(response, wait);
  } catch (error) {
    setState("error", "API unreachable", String(error.message || error));
  }
  setTimeout(poll, wait);
}

function fetchTable() {
  const headers = { Accept: "text/csv" };
  if (view.etag) headers["If-None-Match"] = view.etag;
  const url = "telemetry/ListMetrics?metrics=" + view.names.map(encodeURIComponent).join(",");
  return fetch(url, { headers, cache: "no-store" });
}

async function handle(response, wait) {
  if (response.status === 304) {
    showHeaders(response);
    setState("fresh", "fresh");
    return wait;
  }
  if (response.status === 200) {
    const text = await response.text();
    performance.mark("dashboard:received");
    view.etag = response.headers.get("ETag");
    showHeaders(response);
    setState("fresh", "fresh");
    const data = parseTable(text), generation = Number(response.headers.get("X-Telemetry-Generation"));
    data.rated = response.headers.has("X-Telemetry-Previous");  // rates need the one before
    await applyRates(data, generation);
    view.topAsked++;  // a sort's answer still on its way is for the generation before
    view.top = await loadTop(data, generation);
    render(data, generation);
    if (view.top && view.top.sort !== sortKey()) await refreshTop();  // sorted again meanwhile
    return wait;
  }
  const text = await response.text();
  if (response.status === 404) view.names = [];  // the table's metrics changed: list them again
  if (response.status === 503) {
    const [kind, label, detail] = explain503(text);
    setState(kind, label, detail);
    const retry = Number(response.headers.get("Retry-After"));
    return Math.max(wait, Number.isFinite(retry) ? retry * 1000 : wait);
  }
  if (response.status !== 404) setState("error", "error " + response.status, text.trim());
  return wait;
}

function fetchCsv(query) {
  return fetch("telemetry/ListMetrics?" + query, { headers: { Accept: "text/csv" }, cache: "no-store" });
}

// Each counter's column becomes its per-second rate since the generation before; until the
// API holds two generations (503), a counter shows no value.
async function applyRates(data, generation) {
  const counters = data.names.filter((name) => COUNTERS.includes(name));
  if (!counters.length) return;
  const response = data.rated && await fetchCsv("metrics=" + counters.map(encodeURIComponent).join(",") +
    "&rate=true&generation=" + generation);
  const rates = response && response.status === 200 ? parseTable(await response.text()) : null;
  data.rated = rates !== null;
  for (const name of counters) {
    const c = data.names.indexOf(name), r = rates ? rates.names.indexOf(name) : -1;
    data.texts[c] = r >= 0 ? rates.texts[r].map((t) => t || "–") : data.texts[c].map(() => "–");
    data.numbers[c] = r >= 0 ? rates.numbers[r] : data.numbers[c].map(() => NaN);
  }
}

// The top table as the API sorts and limits it: the switch ids in its order, with the sort and
// generation they are for (drawTable uses them only for those), or null when it said no.
async function loadTop(data, generation) {
  const metric = data.names.includes(view.metric) ? view.metric : data.names[0];  // as render()
  const name = data.names.includes(view.sortBy) ? view.sortBy : metric;
  const rate = COUNTERS.includes(name) ? "&rate=true" : "";
  if (rate && !data.rated) return null;  // no rates yet: the table is sorted here
  const sort = (view.sortDown ? "-" : "") + name;
  const response = await fetchCsv("metrics=" + encodeURIComponent(name) + "&sort=" +
    encodeURIComponent(sort) + "&limit=" + TOP_N + rate + "&generation=" + generation);
  if (response.status !== 200) return null;
  return { sort, generation, ids: parseTable(await response.text()).switches };
}

// Ask the API for the top table of the sort shown now, and draw it unless asked again meanwhile.
async function refreshTop() {
  const asked = ++view.topAsked;
  let top = null;
  try { top = await loadTop(view.data, view.generation); } catch (error) { top = null; }
  if (asked !== view.topAsked || (top && top.generation !== view.generation)) return;  // newer counts
  view.top = top;
  drawTable();
}

function render(data, generation) {
  const first = view.rendered === 0;
  view.data = data;
  view.generation = generation;
  if (!view.metric || !data.names.includes(view.metric)) view.metric = data.names[0];
  if (!view.sortBy || !data.names.includes(view.sortBy)) view.sortBy = view.metric;
  if (view.picked === null || !data.index.has(view.picked)) view.picked = data.switches[0];
  fillMetricSelect();
  $("count").textContent = data.switches.length.toLocaleString("en");
  drawMap();
  drawTable();
  remember();
  drawPick();
  view.rendered++;
  performance.mark("dashboard:rendered");
  if (first) performance.measure("dashboard:first-render", "dashboard:received", "dashboard:rendered");
  document.body.dataset.generation = String(generation);
}

function fillMetricSelect() {
  const select = $("metric");
  if (select.options.length === view.data.names.length &&
      [...select.options].every((o, i) => o.value === view.data.names[i])) return;
  select.replaceChildren(...view.data.names.map((name) => new Option(
    name + (unitOf(name) ? " (" + unitOf(name) + ")" : ""), name)));
  select.value = view.metric;
}

function scale(values) {
  const sorted = Float64Array.from(values.filter(Number.isFinite)).sort();
  if (!sorted.length) return [0, 1];
  // The 5th to 95th percentile: a few spikes must not wash out every other switch.
  const low = sorted[Math.floor((sorted.length - 1) * 0.05)];
  const high = sorted[Math.ceil((sorted.length - 1) * 0.95)];
  return high > low ? [low, high] : [low, low + 1];
}

function layout(n, width) {
  const cell = Math.max(1, Math.min(24, Math.floor(Math.sqrt((width * 0.5 * width) / n))));
  const cols = Math.max(1, Math.floor(width / cell));
  return { cell, cols, rows: Math.ceil(n / cols) };
}

function drawMap() {
  const canvas = $("map"), data = view.data, column = data.names.indexOf(view.metric);
  const values = data.numbers[column], n = values.length;
  const width = Math.max(120, Math.floor(canvas.parentElement.clientWidth));
  const grid = layout(n, width);
  canvas.width = grid.cols * grid.cell;
  canvas.height = grid.rows * grid.cell;
  view.grid = grid;
  const [low, high] = scale(values);
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(canvas.width, canvas.height);
  const px = image.data, stride = canvas.width * 4, span = 255 / (high - low);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const k = Number.isFinite(v) ? Math.max(0, Math.min(255, Math.round((v - low) * span))) * 3 : -1;
    const x0 = (i % grid.cols) * grid.cell, y0 = Math.floor(i / grid.cols) * grid.cell;
    const gap = grid.cell > 3 ? 1 : 0;
    for (let y = y0; y < y0 + grid.cell - gap; y++) {
      let p = y * stride + x0 * 4;
      for (let x = 0; x < grid.cell - gap; x++, p += 4) {
        px[p] = k < 0 ? 200 : LUT[k]; px[p + 1] = k < 0 ? 200 : LUT[k + 1];
        px[p + 2] = k < 0 ? 200 : LUT[k + 2]; px[p + 3] = 255;
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  markCursor(ctx);
  const unit = unitOf(view.metric);
  $("legend-low").textContent = "≤ " + format(low) + " " + unit;
  $("legend-high").textContent = "≥ " + format(high) + " " + unit;
  canvas.setAttribute("aria-label", `heatmap of ${view.metric} for ${n} switches, ` +
    `from ${format(low)} or less to ${format(high)} ${unit} or more (5th to 95th percentile)`);
  drawLegend();
}

function markCursor(ctx) {
  const grid = view.grid, i = view.cursor;
  if (!grid || document.activeElement !== $("map")) return;
  ctx.strokeStyle = "#ff2d55";
  ctx.lineWidth = 2;
  ctx.strokeRect((i % grid.cols) * grid.cell, Math.floor(i / grid.cols) * grid.cell,
    Math.max(grid.cell, 3), Math.max(grid.cell, 3));
}

function drawLegend() {
  const ctx = $("legend").getContext("2d"), image = ctx.createImageData(256, 12);
  for (let x = 0; x < 256; x++) for (let y = 0; y < 12; y++) {
    const p = (y * 256 + x) * 4;
    image.data.set([LUT[x * 3], LUT[x * 3 + 1], LUT[x * 3 + 2], 255], p);
  }
  ctx.putImageData(image, 0, 0);
}

function format(value) {
  if (!Number.isFinite(value)) return "–";
  return Math.abs(value) >= 1e6 ? value.toExponential(3) : String(+value.toPrecision(6));
}

// The rows of the n first switches in the chosen order (NaN last), in one pass over them all.
function topRows(values, n, down) {
  const key = (row) => (Number.isNaN(values[row]) ? -Infinity : down ? values[row] : -values[row]);
  const best = [];
  for (let row = 0; row < values.length; row++) {
    if (best.length === n && key(row) <= key(best[n - 1])) continue;
    let at = best.length;
    while (at > 0 && key(best[at - 1]) < key(row)) at--;
    best.splice(at, 0, row);
    if (best.length > n) best.pop();
  }
  return best;
}

function drawTable() {
  const data = view.data, sortColumn = data.numbers[data.names.indexOf(view.sortBy)];
  const top = view.top, sort = sortKey();
  const fromApi = top && top.sort === sort && top.generation === view.generation &&
    top.ids.every((id) => data.index.has(id));
  const order = fromApi ? top.ids.map((id) => data.index.get(id)) : topRows(sortColumn, TOP_N, view.sortDown);
  document.body.dataset.topSort = fromApi ? sort : "";  // the API's order, else sorted here
  const header = document.activeElement;  // a sort button keeps the focus across the redraw
  const focused = $("top").tHead.contains(header) ? header.title.replace(/^sort by /, "") : null;
  const head = document.createElement("tr");
  head.append(Object.assign(document.createElement("th"), { scope: "col", textContent: "switch" }));
  data.names.forEach((name) => {
    const th = document.createElement("th"), button = document.createElement("button");
    th.scope = "col";
    if (name === view.sortBy) th.setAttribute("aria-sort", view.sortDown ? "descending" : "ascending");
    button.textContent = name + (name === view.sortBy ? (view.sortDown ? " ▼" : " ▲") : "");
    button.title = "sort by " + name;
    button.addEventListener("click", () => sortBy(name));
    const unit = Object.assign(document.createElement("span"), { className: "unit" });
    unit.textContent = unitOf(name) ? " " + unitOf(name) : "";
    th.append(button, unit);
    head.append(th);
  });
  const rows = order.map((row) => {
    const tr = document.createElement("tr"), td = document.createElement("td");
    const button = Object.assign(document.createElement("button"), { textContent: data.switches[row] });
    button.addEventListener("click", () => pick(data.switches[row]));
    td.append(button);
    tr.append(td, ...data.texts.map((column) => Object.assign(document.createElement("td"),
      { textContent: column[row] })));
    return tr;
  });
  $("top").tHead.replaceChildren(head);
  $("top").tBodies[0].replaceChildren(...rows);
  $("top-n").textContent = Math.min(TOP_N, order.length);
  if (focused) focusHeader(focused);
}

async function sortBy(name) {
  view.sortDown = name === view.sortBy ? !view.sortDown : true;
  view.sortBy = name;
  drawTable();  // at once from the data held, then as the API orders it
  focusHeader(name);  // a click does not focus a button in every browser
  await refreshTop();
}

function focusHeader(name) {
  const button = [...$("top").tHead.querySelectorAll("button")].find((b) => b.title === "sort by " + name);
  if (button) button.focus();
}

function remember() {
  const row = view.data.index.get(view.picked);
  const values = Object.fromEntries(view.data.names.map((name, c) => [name, view.data.numbers[c][row]]));
  view.history.push({ generation: view.generation, values });
  if (view.history.length > SPARK_POINTS) view.history.shift();
}

function pick(id) {
  if (!view.data || !view.data.index.has(id)) {
    $("pick-note").textContent = `no switch "${id}" in generation ${view.generation}`;
    return;
  }
  if (id !== view.picked) { view.picked = id; view.history = []; remember(); }
  view.cursor = view.data.index.get(id);
  $("pick").value = id;
  drawPick();
}

function drawPick() {
  const data = view.data, row = data.index.get(view.picked), column = data.names.indexOf(view.metric);
  $("pick-switch").textContent = view.picked;
  $("pick-metric").textContent = view.metric;
  $("pick-value").textContent = data.texts[column][row];
  $("pick-unit").textContent = unitOf(view.metric);
  $("pick-note").textContent = `generation ${view.generation}`;
  const points = view.history.map((h) => h.values[view.metric]).filter(Number.isFinite);
  const low = Math.min(...points), high = Math.max(...points), span = high - low || 1;
  const step = 300 / Math.max(1, Math.max(points.length, 30) - 1);
  $("spark-line").setAttribute("points", points.map((v, i) =>
    `${(i * step).toFixed(1)},${(58 - ((v - low) / span) * 56).toFixed(1)}`).join(" "));
  $("spark-range").textContent = points.length
    ? `last ${points.length} generations: ${format(low)} to ${format(high)} ${unitOf(view.metric)}` : "";
  $("spark").setAttribute("aria-label", `${view.metric} of switch ${view.picked} over the last ` +
    `${points.length} generations: ${points.length ? format(low) + " to " + format(high) : "none"}`);
}

function cellAt(event) {
  const canvas = $("map"), grid = view.grid, box = canvas.getBoundingClientRect();
  const x = Math.floor(((event.clientX - box.left) * canvas.width) / box.width / grid.cell);
  const y = Math.floor(((event.clientY - box.top) * canvas.height) / box.height / grid.cell);
  const i = y * grid.cols + x;
  return x < grid.cols && i < view.data.switches.length ? i : -1;
}

function hover(i, x, y) {
  const tip = $("hover");
  if (i < 0) { tip.textContent = ""; return; }
  const column = view.data.names.indexOf(view.metric);
  tip.textContent = `switch ${view.data.switches[i]}: ${view.data.texts[column][i]} ${unitOf(view.metric)}`;
  tip.style.left = x + 12 + "px";
  tip.style.top = y + 12 + "px";
}

function wire() {
  const canvas = $("map");
  $("metric").addEventListener("change", (event) => {
    view.metric = event.target.value;
    if (view.data) { drawMap(); drawPick(); }
  });
  $("pick-form").addEventListener("submit", (event) => { event.preventDefault(); pick($("pick").value.trim()); });
  canvas.addEventListener("mousemove", (event) => {
    if (!view.data) return;
    const box = canvas.getBoundingClientRect();
    hover(cellAt(event), event.clientX - box.left, event.clientY - box.top);
  });
  canvas.addEventListener("mouseleave", () => hover(-1));
  canvas.addEventListener("click", (event) => {
    const i = view.data ? cellAt(event) : -1;
    if (i >= 0) pick(view.data.switches[i]);
  });
  canvas.addEventListener("focus", () => view.data && drawMap());
  canvas.addEventListener("blur", () => { hover(-1); if (view.data) drawMap(); });
  canvas.addEventListener("keydown", (event) => {
    if (!view.data) return;
    const n = view.data.switches.length, cols = view.grid.cols;
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols, Home: -n, End: n };
    if (event.key in moves) {
      event.preventDefault();
      view.cursor = Math.max(0, Math.min(n - 1, view.cursor + moves[event.key]));
      drawMap();
      const grid = view.grid, scaleX = canvas.getBoundingClientRect().width / canvas.width;
      hover(view.cursor, (view.cursor % cols) * grid.cell * scaleX,
        Math.floor(view.cursor / cols) * grid.cell * scaleX);
    } else if (event.key === "Enter") {
      event.preventDefault();
      pick(view.data.switches[view.cursor]);
    }
  });
  let resizing = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => view.data && drawMap(), 150);
  });
}

wire();
poll();
