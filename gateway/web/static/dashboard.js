// The supervisors' dashboard: reads /api/reports/kpis and draws the headline figures,
// four charts (inline SVG, drawn here: no library, no CDN) and the table by group.
// Definitions of every figure: docs/KPIS.md.

const SVG = "http://www.w3.org/2000/svg";
const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content || "";
const { lang, words: W, channels: CHANNELS } = JSON.parse(meta("dashboard-words") || "{}");
const TZ = meta("report-timezone") || "UTC";

const $ = (id) => document.getElementById(id);
const pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
const num = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return W.none;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}
const rate = (v) => (v === null || v === undefined ? W.none : pct.format(v));
const count = (v) => (v === null || v === undefined ? W.none : num.format(v));

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}, text = "") {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text) node.textContent = text;
  return node;
}

function localDate(iso) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(iso));
}

// ------------------------------------------------------------------ headline

function card(id, label, value, sub, raw) {
  const box = el("div", { class: "kpi", id: `kpi-${id}`, "data-value": raw ?? "" });
  box.append(el("span", { class: "kpi-label" }, label), el("strong", { class: "kpi-value" }, value));
  if (sub) box.append(el("span", { class: "kpi-sub" }, sub));
  return box;
}

function headline(t) {
  const box = $("dash-headline");
  box.replaceChildren(
    card("conversations", W.conversations, count(t.conversations), `${W.handoff}: ${rate(t.handoff_rate)}`,
      t.conversations),
    card("containment", W.containment, rate(t.containment_rate), `${t.contained} / ${t.settled}`,
      t.containment_rate),
    card("tickets", W.tickets, count(t.tickets), `${W.escalation}: ${rate(t.escalation_rate)}`, t.tickets),
    card("fcr", W.fcr, rate(t.fcr_rate), `${t.fcr} / ${t.resolved}`, t.fcr_rate),
    card("frt", W.frt, duration(t.frt_bh_median_s), `${W.p90}: ${duration(t.frt_bh_p90_s)}`,
      t.frt_bh_median_s),
    card("resolution", W.resolution, duration(t.resolution_bh_median_s),
      `${W.p90}: ${duration(t.resolution_bh_p90_s)}`, t.resolution_bh_median_s),
    card("sla", W.sla, rate(t.sla_frt_rate), `${t.sla_frt_met} ${W.met} · ${t.sla_frt_breached} ${W.breached}`,
      t.sla_frt_rate),
    card("sla-res", W.sla_res, rate(t.sla_res_rate),
      `${t.sla_res_met} ${W.met} · ${t.sla_res_breached} ${W.breached}`, t.sla_res_rate),
    card("csat", W.csat, rate(t.csat_rate),
      `${W.csat_mean} ${count(t.csat_mean)} · ${t.csat_answers} ${W.answers} · ${W.response_rate} ` +
      rate(t.csat_response_rate), t.csat_rate),
    card("backlog", W.backlog, count(t.backlog), "", t.backlog),
  );
}

// ------------------------------------------------------------------ charts

const WIDTH = 560, HEIGHT = 220, LEFT = 74, BOTTOM = 28, TOP = 12;

function frame(figure, label) {
  figure.querySelector("svg")?.remove();
  figure.querySelector(".legend")?.remove();
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": label });
  figure.append(root);
  return root;
}

function legend(figure, items) {
  const list = el("ul", { class: "legend" });
  for (const [cls, text] of items) {
    const li = el("li");
    li.append(el("span", { class: `swatch ${cls}` }), document.createTextNode(text));
    list.append(li);
  }
  figure.append(list);
}

// Grouped vertical bars: one group per label, one bar per series.
function bars(figure, label, labels, series, format) {
  const root = frame(figure, label);
  const values = series.flatMap((s) => s.values.filter((v) => v !== null));
  const max = Math.max(1, ...values);
  const plotH = HEIGHT - BOTTOM - TOP, plotW = WIDTH - LEFT - 8;
  root.append(svg("line", { x1: LEFT, y1: TOP + plotH, x2: WIDTH - 8, y2: TOP + plotH, class: "axis" }));
  root.append(svg("text", { x: LEFT - 6, y: TOP + 4, class: "tick", "text-anchor": "end" }, format(max)));
  root.append(svg("text", { x: LEFT - 6, y: TOP + plotH, class: "tick", "text-anchor": "end" }, format(0)));
  const slot = plotW / Math.max(1, labels.length);
  const barW = Math.max(2, (slot * 0.8) / series.length);
  labels.forEach((name, i) => {
    const x0 = LEFT + i * slot + slot * 0.1;
    series.forEach((s, j) => {
      const v = s.values[i];
      const h = v === null ? 0 : (v / max) * plotH;
      const rect = svg("rect", {
        x: (x0 + j * barW).toFixed(1), y: (TOP + plotH - h).toFixed(1), width: (barW - 1).toFixed(1),
        height: h.toFixed(1), class: `bar ${s.cls}`, "data-key": name, "data-value": v ?? "",
      });
      rect.append(svg("title", {}, `${name} · ${s.name}: ${v === null ? W.none : format(v)}`));
      root.append(rect);
    });
    if (labels.length <= 16 || i % Math.ceil(labels.length / 16) === 0) {
      const short = /^\d{4}-\d\d-\d\d$/.test(name) ? name.slice(5) : name;
      root.append(svg("text", { x: (x0 + slot * 0.4).toFixed(1), y: HEIGHT - 10, class: "tick",
        "text-anchor": "middle" }, short));
    }
  });
  legend(figure, series.map((s) => [s.cls, s.name]));
}

// Horizontal stacked bars: met vs breached per SLA target.
function stacked(figure, label, rows) {
  const root = frame(figure, label);
  const plotW = WIDTH - 150 - 60;
  rows.forEach((r, i) => {
    const y = TOP + 20 + i * 80;
    const total = r.met + r.breached;
    root.append(svg("text", { x: 0, y: y + 22, class: "row-label" }, r.name));
    let x = 150;
    for (const [cls, value, name] of [["met", r.met, W.met], ["breached", r.breached, W.breached]]) {
      const w = total ? (value / total) * plotW : 0;
      const rect = svg("rect", { x: x.toFixed(1), y, width: w.toFixed(1), height: 34, class: `bar ${cls}`,
        "data-key": r.key, "data-value": value });
      rect.append(svg("title", {}, `${r.name} · ${name}: ${value}`));
      root.append(rect);
      x += w;
    }
    root.append(svg("text", { x: 150 + plotW + 8, y: y + 22, class: "row-value", "data-key": r.key },
      total ? rate(r.met / total) : W.none));
    root.append(svg("text", { x: 150, y: y + 52, class: "tick" },
      `${r.met} ${W.met} · ${r.breached} ${W.breached}`));
  });
  legend(figure, [["met", W.met], ["breached", W.breached]]);
}

// "≤ 15 min", "≤ 30 min", ..., "> 8 h" from the buckets' upper bounds.
function bucketLabels(edges) {
  const labels = edges.map((edge) => `≤ ${duration(edge)}`);
  labels.push(`> ${duration(edges[edges.length - 1])}`);
  return labels;
}

function charts(report) {
  const days = report.daily.map((d) => d.key);
  bars($("chart-volume"), W.volume_chart, days, [
    { name: W.conversations, cls: "s-conversations", values: report.daily.map((d) => d.conversations) },
    { name: W.tickets, cls: "s-tickets", values: report.daily.map((d) => d.tickets) },
    { name: W.contained, cls: "s-contained", values: report.daily.map((d) => d.contained) },
  ], (v) => count(Math.round(v)));
  bars($("chart-frt"), W.frt_chart, days, [
    { name: W.median, cls: "s-median", values: report.daily.map((d) => d.frt_bh_median_s) },
    { name: W.p90, cls: "s-p90", values: report.daily.map((d) => d.frt_bh_p90_s) },
  ], duration);
  const t = report.totals;
  stacked($("chart-sla"), W.sla_chart, [
    { key: "first_response", name: W.first_response, met: t.sla_frt_met, breached: t.sla_frt_breached },
    { key: "resolution", name: W.resolution_target, met: t.sla_res_met, breached: t.sla_res_breached },
  ]);
  const dist = report.distributions;
  bars($("chart-dist"), W.dist_chart, bucketLabels(dist.edges_s), [
    { name: W.first_response, cls: "s-median", values: dist.frt_bh },
    { name: W.resolution_target, cls: "s-tickets", values: dist.resolution_bh },
  ], (v) => count(Math.round(v)));
  const ratings = ["1", "2", "3", "4", "5"];
  bars($("chart-csat"), W.csat_chart, ratings.map((r) => `${W.rating} ${r}`), [
    { name: W.answers, cls: "s-csat", values: ratings.map((r) => report.csat_distribution[r] ?? 0) },
  ], (v) => count(Math.round(v)));
}

// ------------------------------------------------------------------ table

const COLUMNS = [
  ["tickets", W.tickets, count], ["conversations", W.conversations, count],
  ["containment_rate", W.containment, rate], ["fcr_rate", W.fcr, rate],
  ["frt_bh_median_s", W.frt, duration], ["resolution_bh_median_s", W.resolution, duration],
  ["sla_frt_rate", W.sla, rate], ["sla_res_rate", W.sla_res, rate], ["csat_rate", W.csat, rate],
  ["csat_answers", W.answers, count], ["backlog", W.backlog, count],
];

function keyLabel(group, key) {
  if (group === "channel") return CHANNELS[key] || key;
  if (group === "operator" && key === "unassigned") return W.unassigned;
  return key;
}

function table(report) {
  const group = report.period.group;
  $("dash-table-group").textContent = W[group] || group;
  const head = el("tr");
  head.append(el("th", { scope: "col" }, W[group] || group));
  for (const [, name] of COLUMNS) head.append(el("th", { scope: "col" }, name));
  const body = el("tbody");
  for (const row of report.groups) {
    const tr = el("tr", { "data-key": row.key });
    tr.append(el("th", { scope: "row" }, keyLabel(group, row.key)));
    for (const [field, , format] of COLUMNS) tr.append(el("td", { "data-field": field }, format(row[field])));
    body.append(tr);
  }
  if (!report.groups.length) {
    const tr = el("tr");
    tr.append(el("td", { colspan: COLUMNS.length + 1 }, W.empty));
    body.append(tr);
  }
  const thead = el("thead");
  thead.append(head);
  $("dash-groups").replaceChildren(thead, body);
}

// ------------------------------------------------------------------ comments

async function comments(query) {
  const list = $("dash-comments");
  const response = await fetch(`/api/reports/csat?${query}`, { headers: { Accept: "application/json" } })
    .catch(() => null);
  const data = response && response.ok ? await response.json() : { answers: [] };
  const items = data.answers.map((a) => {
    const li = el("li", { class: `comment r${a.rating}`, "data-ticket": a.ticket_number });
    li.append(el("strong", { class: "comment-rating" }, `${a.rating} ${W.out_of}`),
      el("span", { class: "comment-meta" },
        ` · ${a.ticket_number} · ${keyLabel("operator", a.operator)} · ${localDate(a.answered_at)}`));
    if (a.comment) li.append(el("p", { class: "comment-text" }, a.comment));  // text, never HTML
    return li;
  });
  list.replaceChildren(...(items.length ? items : [el("li", { class: "comment none" }, W.no_comments)]));
}

// ------------------------------------------------------------------ loading

function params() {
  const form = new FormData($("dash-filter"));
  const out = new URLSearchParams();
  for (const key of ["from", "to", "group"]) if (form.get(key)) out.set(key, form.get(key));
  return out;
}

async function load() {
  const status = $("dash-status");
  status.textContent = W.loading;
  status.classList.remove("error");
  const query = params();
  $("dash-csv").href = `/api/reports/kpis.csv?${query}`;
  let response;
  try {
    response = await fetch(`/api/reports/kpis?${query}`, { headers: { Accept: "application/json" } });
  } catch {
    status.textContent = W.unreachable;
    status.classList.add("error");
    return;
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    status.textContent = `${W.error}: ${data.message || response.status}`;
    status.classList.add("error");
    return;
  }
  $("dash-from").value = localDate(data.period.from);
  $("dash-to").value = localDate(new Date(new Date(data.period.to).getTime() - 1).toISOString());
  const visible = new URLSearchParams({ from: $("dash-from").value, to: $("dash-to").value,
    group: data.period.group, lang });
  history.replaceState(null, "", `/dashboard?${visible}`);
  $("dash-csv").href = `/api/reports/kpis.csv?${new URLSearchParams({ from: $("dash-from").value,
    to: $("dash-to").value, group: data.period.group })}`;
  headline(data.totals);
  charts(data);
  table(data);
  await comments(new URLSearchParams({ from: $("dash-from").value, to: $("dash-to").value }));
  status.textContent = "";
  document.body.dataset.loaded = "true";
}

function start() {
  for (const node of document.querySelectorAll("[data-word]")) {
    const word = W[node.dataset.word];
    if (word) node.textContent = word;
  }
  const url = new URLSearchParams(location.search);
  $("dash-from").value = url.get("from") || "";
  $("dash-to").value = url.get("to") || "";
  $("dash-group").value = url.get("group") || "queue";
  $("dash-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  load();
}

start();
