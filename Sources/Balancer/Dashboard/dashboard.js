// System Info dashboard: live node cards, RAM/CPU charts, the balance bar, a search
// across the nodes and the Publications list. Plain ES2020, no framework, no build
// step: the balancer embeds this file and serves it under a CSP that forbids inline
// script and style.
//
// Safety rule: sentence text, authors, node names and error messages come from
// outside. They only ever reach the page through textContent / createElement,
// never through innerHTML.
"use strict";

const POLL_MS = 1500;          // /nodes poll, one chart sample each time
const SAMPLES = 60;            // rolling window per node (60 × 1.5 s = 90 s)
const PAGE = 20;               // publications per page ("Load more")
const NEW_POLL_MS = 3000;      // how often the selected view looks for new sentences
const NEW_LIMIT = 100;         // newest page size when looking for new sentences
const MAX_SHOWN = 400;         // cards kept while the user reads the top of the list
const SEARCH_LIMIT = 20;       // hits per search: the best across all nodes
const PALETTE_SIZE = 8;        // Okabe–Ito colours, defined in dashboard.css as .c0 … .c7
const SVG_NS = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------
// Small DOM helpers

/** Creates an HTML element; `text` is set with textContent, so it is never parsed. */
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  return node;
}

/** Colour (and, past eight nodes, dash pattern) classes for the node at `index`. */
function colourClasses(index) {
  const dash = Math.floor(index / PALETTE_SIZE) % 3;
  return `c${index % PALETTE_SIZE}` + (dash ? ` dash${dash}` : "");
}

const numberFormat = new Intl.NumberFormat();
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** The API's dates are UTC without a marker: `YYYY-MM-DD HH:MM:SS.ffffff`. */
function parseUTC(text) {
  if (typeof text !== "string") return NaN;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?/.exec(text);
  if (!m) return NaN;
  const millis = (m[3] || "0").padEnd(3, "0").slice(0, 3);
  return Date.parse(`${m[1]}T${m[2]}.${millis}Z`);
}

function formatAge(ms) {
  if (!Number.isFinite(ms)) return "never";
  const s = Math.max(0, ms / 1000);
  if (s < 10) return `${s.toFixed(1)} s ago`;
  if (s < 120) return `${Math.round(s)} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

const percent = (value) => (typeof value === "number" ? `${value} %` : "–");

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** GET a balancer endpoint as JSON; errors carry the API's `{"error"}` text. */
async function getJSON(path) {
  let response;
  try {
    response = await fetch(path, { cache: "no-store", headers: { accept: "application/json" } });
  } catch (error) {
    throw new ApiError(`balancer unreachable (${error.message})`, 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: keep body null and report the status below.
  }
  if (!response.ok) {
    const detail = body && typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
    throw new ApiError(detail, response.status);
  }
  return { body, date: response.headers.get("date") };
}

// ---------------------------------------------------------------------------
// Nodes: cards, charts, balance bar

const cluster = {
  names: [],              // configured order
  byName: new Map(),      // name -> latest status object from /nodes
  history: new Map(),     // name -> { ram: [], cpu: [] } (null = no sample: down)
  cards: new Map(),       // name -> card elements
  skewMs: 0,              // server clock minus ours, only when they clearly disagree
  polledAt: 0,
};

function indexOf(name) {
  return cluster.names.indexOf(name);
}

async function pollNodes() {
  try {
    const { body, date } = await getJSON("/nodes");
    if (!Array.isArray(body)) throw new ApiError("unexpected /nodes reply", 200);
    // "x s ago" is computed here from the balancer's clock. The Date header only has
    // one-second resolution, so it only corrects clocks that are clearly apart.
    const serverNow = Date.parse(date || "");
    const skew = Number.isFinite(serverNow) ? serverNow - Date.now() : 0;
    cluster.skewMs = Math.abs(skew) > 2000 ? skew : 0;
    cluster.polledAt = Date.now();
    applyNodes(body);
    $("conn-error").hidden = true;
    document.body.classList.remove("is-offline");
  } catch (error) {
    // Keep the last cards, but the charts get a gap for every node.
    $("conn-error").textContent = `Cannot reach the balancer: ${error.message}. Retrying…`;
    $("conn-error").hidden = false;
    document.body.classList.add("is-offline");
    for (const name of cluster.names) pushSample(name, null);
    renderCharts();
    renderCards(); // the "polled … ago" ages keep growing
  } finally {
    setTimeout(pollNodes, POLL_MS);
  }
}

function applyNodes(list) {
  const names = list.map((node) => String(node.name));
  if (names.join("\u0000") !== cluster.names.join("\u0000")) {
    cluster.names = names;
    buildCards();
    buildNodeSelector();
    for (const name of [...cluster.history.keys()]) if (!names.includes(name)) cluster.history.delete(name);
  }
  cluster.byName = new Map(list.map((node) => [String(node.name), node]));
  for (const node of list) pushSample(String(node.name), node.up ? node : null);
  renderCards();
  renderBalance();
  renderCharts();
  renderSummary();
  publications.onNodesUpdated();
}

function pushSample(name, node) {
  let series = cluster.history.get(name);
  if (!series) {
    series = { ram: [], cpu: [] };
    cluster.history.set(name, series);
  }
  for (const metric of ["ram", "cpu"]) {
    const value = node && typeof node[metric] === "number" ? node[metric] : null;
    series[metric].push(value);
    if (series[metric].length > SAMPLES) series[metric].shift();
  }
}

function renderSummary() {
  const up = cluster.names.filter((name) => cluster.byName.get(name)?.up).length;
  const total = cluster.names.length;
  $("summary").textContent =
    `${up} of ${total} node${total === 1 ? "" : "s"} up · ${numberFormat.format(totalDocuments())} sentences · ` +
    `updated every ${POLL_MS / 1000} s`;
}

function totalDocuments() {
  let sum = 0;
  for (const node of cluster.byName.values()) if (typeof node.database === "number") sum += node.database;
  return sum;
}

// --- Cards --------------------------------------------------------------------

function buildCards() {
  const list = $("node-cards");
  list.replaceChildren();
  cluster.cards.clear();
  cluster.names.forEach((name, index) => {
    const card = h("li", `node-card ${colourClasses(index)}`);
    card.dataset.node = name;
    const head = h("div", "node-card__head");
    const title = h("h3", "node-card__name", name);
    const state = h("span", "pill");
    head.append(h("span", "swatch", ""), title, state);
    const meta = h("p", "node-card__meta");
    const url = h("span", "node-card__url");
    const age = h("span", "node-card__age");
    // Shown only for nodes that report replication (a Litestream beside them).
    const backup = h("span", "node-card__backup");
    backup.hidden = true;
    meta.append(url, age, backup);

    const stats = h("dl", "node-card__stats");
    const field = (label, key) => {
      const wrap = h("div", `stat stat--${key}`);
      const value = h("dd", "stat__value");
      value.dataset.field = key;
      wrap.append(h("dt", "stat__label", label), value);
      stats.append(wrap);
      return value;
    };
    const docs = field("Documents", "database");
    const ram = field("RAM", "ram");
    const cpu = field("CPU", "cpu");
    const source = field("Source", "source");
    const meterRam = meter(ram.parentElement);
    const meterCpu = meter(cpu.parentElement);
    const error = h("p", "node-card__error");
    error.hidden = true;

    card.append(head, meta, stats, error);
    list.append(card);
    cluster.cards.set(name, { card, state, url, docs, ram, cpu, source, meterRam, meterCpu, age, backup, error });
  });
}

/** A thin bar under a percentage; its width is set through CSSOM (allowed by the CSP). */
function meter(parent) {
  const track = h("div", "meter");
  track.setAttribute("aria-hidden", "true");
  const fill = h("div", "meter__fill");
  track.append(fill);
  parent.append(track);
  return fill;
}

function renderCards() {
  const now = Date.now() + cluster.skewMs;
  for (const name of cluster.names) {
    const node = cluster.byName.get(name) || {};
    const el = cluster.cards.get(name);
    if (!el) continue;
    const up = node.up === true;
    // Up, but refusing writes (disk full, read-only database): it still serves reads.
    const readOnly = up && node.writable === false;
    // Drained by an operator: readable, takes no new sentences.
    const draining = up && !readOnly && node.draining === true;
    el.card.classList.toggle("is-down", !up);
    el.card.classList.toggle("is-read-only", readOnly);
    el.card.classList.toggle("is-draining", draining);
    el.state.textContent = !up ? "DOWN" : readOnly ? "READ ONLY" : draining ? "DRAINING" : "UP";
    el.state.className = `pill ${!up ? "pill--down" : readOnly || draining ? "pill--readonly" : "pill--up"}`;
    el.url.textContent = node.url || "";
    el.docs.textContent = typeof node.database === "number" ? numberFormat.format(node.database) : "–";
    el.docs.dataset.value = typeof node.database === "number" ? String(node.database) : "";
    el.ram.textContent = percent(node.ram);
    el.cpu.textContent = percent(node.cpu);
    el.source.textContent = node.source || "–";
    el.meterRam.style.width = `${clampPercent(node.ram)}%`;
    el.meterCpu.style.width = `${clampPercent(node.cpu)}%`;
    el.age.textContent = node.lastPoll ? `polled ${formatAge(now - parseUTC(node.lastPoll))}` : "not polled yet";
    el.age.title = node.lastPoll ? `${node.lastPoll} UTC` : "";
    renderBackup(el.backup, node.replication);
    const problem = !up ? node.lastError : readOnly ? node.writeError : null;
    el.error.hidden = !problem;
    el.error.textContent = problem ? String(problem) : "";
    const state = !up ? `down (${node.lastError || "no answer"})` : readOnly ? `read only (${node.writeError || "cannot store"})` : draining ? "draining (takes no new sentences)" : "up";
    el.card.setAttribute(
      "aria-label",
      `Node ${name}: ${state}, ${el.docs.textContent} documents, ` +
        `RAM ${el.ram.textContent}, CPU ${el.cpu.textContent}, source ${el.source.textContent}, ${el.age.textContent}` +
        (el.backup.hidden ? "" : `, ${el.backup.textContent}`),
    );
  }
}

/** How far the node's Litestream replica is behind; the reason on hover when it is not replicating. */
function renderBackup(el, replication) {
  el.hidden = !replication;
  if (!replication) return;
  const lag = typeof replication.lagSeconds === "number" ? replication.lagSeconds : null;
  const replicating = replication.status === "replicating";
  el.textContent = !replicating
    ? `replica: ${replication.status}`
    : lag === 0 ? "replica: up to date" : `replica: ${lag === null ? "?" : lag.toFixed(1)} s behind`;
  el.title = replication.error || (replication.lastSyncAt ? `last upload ${replication.lastSyncAt}` : "");
  // Late: not replicating, or more than a few sync intervals behind.
  el.classList.toggle("is-late", !replicating || lag === null || lag > 5);
}

const clampPercent = (value) => (typeof value === "number" ? Math.max(0, Math.min(100, value)) : 0);

// --- Balance bar --------------------------------------------------------------

function renderBalance() {
  const bar = $("balance-bar");
  const legend = $("balance-legend");
  const total = totalDocuments();
  bar.replaceChildren();
  legend.replaceChildren();
  const parts = [];
  cluster.names.forEach((name, index) => {
    const node = cluster.byName.get(name) || {};
    const count = typeof node.database === "number" ? node.database : 0;
    const share = total > 0 ? (count / total) * 100 : 0;
    const down = node.up !== true;
    if (share > 0) {
      const segment = h("span", `balance-bar__segment ${colourClasses(index)}${down ? " is-down" : ""}`);
      segment.style.width = `${share}%`;
      segment.title = `${name}: ${count} (${share.toFixed(1)} %)`;
      bar.append(segment);
    }
    const item = h("li", `legend__item ${colourClasses(index)}${down ? " is-down" : ""}`);
    item.dataset.node = name;
    item.append(
      h("span", "swatch", ""),
      h("span", "legend__name", name),
      h("span", "legend__value", `${numberFormat.format(count)} · ${share.toFixed(share > 0 && share < 10 ? 1 : 0)} %${down ? " · down" : ""}`),
    );
    legend.append(item);
    parts.push(`${name} ${count} (${share.toFixed(0)} %)`);
  });
  if (total === 0) bar.append(h("span", "balance-bar__empty", "No sentences yet"));
  bar.setAttribute("aria-label", `Sentences per node, ${total} in all: ${parts.join(", ")}`);
}

// --- Charts -------------------------------------------------------------------

const CHART = { height: 180, left: 44, right: 14, top: 12, bottom: 26 };

function renderCharts() {
  drawChart($("chart-ram"), $("legend-ram"), "ram", "RAM");
  drawChart($("chart-cpu"), $("legend-cpu"), "cpu", "CPU");
}

/**
 * Draws one line chart at the SVG's real pixel size (measured each time), so text
 * keeps its size on a phone instead of shrinking with a scaled viewBox.
 */
function drawChart(target, legend, metric, label) {
  const width = Math.max(200, Math.round(target.getBoundingClientRect().width || 320));
  const { height, left, right, top, bottom } = CHART;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const y = (value) => top + plotH * (1 - value / 100);
  const step = plotW / (SAMPLES - 1);
  // Newest sample sits at the right edge; older ones move left.
  const x = (ago) => left + plotW - ago * step;

  // CSS gives the element its size (width 100 %, fixed height); the viewBox matches
  // it one to one.
  target.setAttribute("viewBox", `0 0 ${width} ${height}`);
  target.replaceChildren();

  const grid = svg("g", { class: "chart__grid" });
  for (const value of [0, 25, 50, 75, 100]) {
    grid.append(svg("line", { x1: left, x2: left + plotW, y1: y(value), y2: y(value) }));
    const text = svg("text", { x: left - 8, y: y(value) + 4, "text-anchor": "end", class: "chart__label" });
    text.textContent = `${value} %`;
    grid.append(text);
  }
  for (const [ago, text] of [[SAMPLES - 1, "−90 s"], [40, "−60 s"], [20, "−30 s"], [0, "now"]]) {
    const anchor = ago === 0 ? "end" : ago === SAMPLES - 1 ? "start" : "middle";
    const tick = svg("text", { x: x(ago), y: height - 6, "text-anchor": anchor, class: "chart__label" });
    tick.textContent = text;
    grid.append(tick);
  }
  target.append(grid);

  legend.replaceChildren();
  const summary = [];
  cluster.names.forEach((name, index) => {
    const samples = cluster.history.get(name)?.[metric] || [];
    const classes = colourClasses(index);
    // One path per node; a null sample (node down) lifts the pen, leaving a gap.
    let d = "";
    let points = 0;
    let penDown = false;
    let last = null;
    samples.forEach((value, i) => {
      const ago = samples.length - 1 - i;
      if (value === null) {
        penDown = false;
        return;
      }
      const px = x(ago).toFixed(1);
      const py = y(clampPercent(value)).toFixed(1);
      d += `${penDown ? "L" : "M"}${px} ${py} `;
      penDown = true;
      points += 1;
      last = { px, py, ago };
    });
    const path = svg("path", { d: d.trim(), class: `chart__line ${classes}` });
    // Nodes on one machine often report the same figures: earlier lines are drawn
    // wider, so a line hidden under a later one still shows as a coloured edge.
    path.style.strokeWidth = String(2 + 1.25 * Math.min(3, cluster.names.length - 1 - index));
    path.dataset.node = name;
    path.dataset.points = String(points);
    target.append(path);
    if (last && last.ago === 0) {
      target.append(svg("circle", { cx: last.px, cy: last.py, r: 3.5, class: `chart__dot ${classes}` }));
    }

    const node = cluster.byName.get(name) || {};
    const current = node.up ? percent(node[metric]) : "down";
    const item = h("li", `legend__item ${classes}${node.up ? "" : " is-down"}`);
    item.dataset.node = name;
    item.append(h("span", "swatch swatch--line", ""), h("span", "legend__name", name), h("span", "legend__value", current));
    legend.append(item);
    summary.push(`${name} ${current}`);
  });
  target.setAttribute("aria-label", `${label} usage over the last 90 seconds, now: ${summary.join(", ") || "no nodes"}`);
}

// ---------------------------------------------------------------------------
// Sentence cards (Publications and Search)

/** Author, node badge and date of a stored sentence; `block` prefixes the classes. */
function cardHead(block, doc, node) {
  const head = h("div", `${block}__head`);
  head.append(h("span", `${block}__author`, doc.author));
  const badge = h("span", `badge ${colourClasses(Math.max(0, indexOf(node)))}`, node);
  badge.title = `Stored on node ${node}`;
  head.append(badge);
  const time = h("time", `${block}__date`);
  const millis = parseUTC(doc.date);
  if (Number.isFinite(millis)) {
    time.dateTime = new Date(millis).toISOString();
    time.textContent = dateFormat.format(millis);
  } else {
    time.textContent = String(doc.date ?? "");
  }
  time.title = `${doc.date} UTC`;
  head.append(time);
  return head;
}

// ---------------------------------------------------------------------------
// Publications

/**
 * One source per node in the current view. "All" merges every node's newest-first
 * pages by date (then id); each source keeps its own `after` cursor and a buffer of
 * fetched-but-not-shown documents, and is only merged while its buffer holds a full
 * page (or all it has left), so the merged order is exact.
 */
function newSource(name) {
  return { name, cursor: null, exhausted: false, buffer: [], top: null, loaded: false, error: null };
}

/** Newest first: later date, then larger id. Dates share one fixed format, so strings compare. */
function newerFirst(a, b) {
  if (a.doc.date !== b.doc.date) return a.doc.date < b.doc.date ? 1 : -1;
  if (a.doc.id !== b.doc.id) return a.doc.id < b.doc.id ? 1 : -1;
  return 0;
}

const publications = {
  view: "",            // "" = All, else a node name
  author: "",
  generation: 0,       // bumped on every view change; late answers for an old view are dropped
  sources: new Map(),
  shown: [],           // { node, doc, li } newest first, as in the DOM
  keys: new Set(),     // `${node}\u0000${id}` of shown documents
  started: false,      // the first /nodes answer has arrived
  loading: false,      // a "Load more" (or first page) is in flight
  polling: false,      // a look for new sentences is in flight
  unseen: 0,           // new sentences that arrived while the user was scrolled down
  overflowed: false,   // more arrived than one newest-page can tell: offer a reload
  authors: new Set(),

  init() {
    $("pub-node").addEventListener("change", (event) => this.select(event.target.value, this.author));
    let timer = 0;
    $("pub-author").addEventListener("input", (event) => {
      clearTimeout(timer);
      timer = setTimeout(() => this.select(this.view, event.target.value.trim()), 350);
    });
    $("pub-controls").addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(timer);
      this.select(this.view, $("pub-author").value.trim());
    });
    $("pub-more").addEventListener("click", () => this.loadMore());
    $("pub-new").addEventListener("click", () => {
      if (this.overflowed) {
        this.select(this.view, this.author, true);
      } else {
        this.scrollToTop();
      }
    });
    // Whichever element scrolls (the page on a phone, the list on a desktop):
    // reaching the top clears the "N new" notice.
    const onScroll = () => {
      if (this.unseen && !this.overflowed && this.atTop()) this.clearNotice();
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    $("pub-scroll").addEventListener("scroll", onScroll, { passive: true });
    setInterval(() => this.pollNew(), NEW_POLL_MS);
  },

  /** Called after every /nodes poll: starts the first load, then keeps the counts fresh. */
  onNodesUpdated() {
    if (!this.started) {
      this.started = true;
      this.select("", "");
      return;
    }
    this.renderStatus();
  },

  activeNames() {
    return this.view ? [this.view] : cluster.names.slice();
  },

  select(view, author, force = false) {
    if (!force && this.started && view === this.view && author === this.author && this.generation > 0) return;
    this.view = view;
    this.author = author;
    this.generation += 1;
    this.sources = new Map(this.activeNames().map((name) => [name, newSource(name)]));
    this.shown = [];
    this.keys.clear();
    $("pub-list").replaceChildren();
    this.clearNotice();
    this.loading = false;
    $("pub-scroll").scrollTop = 0;
    this.loadMore();
  },

  query(name, extra) {
    const params = new URLSearchParams({ order: "desc", ...extra });
    if (this.author) params.set("author", this.author);
    return `/nodes/${encodeURIComponent(name)}/sentence?${params}`;
  },

  async fetchPage(source, limit, after) {
    const extra = { limit: String(limit) };
    if (after) extra.after = after;
    const { body } = await getJSON(this.query(source.name, extra));
    if (!Array.isArray(body)) throw new ApiError("unexpected reply", 200);
    return body.map((doc) => ({ node: source.name, doc }));
  },

  async loadMore() {
    if (this.loading) return;
    this.loading = true;
    const generation = this.generation;
    this.renderStatus();
    // Fill every source's buffer to a page, all nodes at once.
    await Promise.all(
      [...this.sources.values()].map(async (source) => {
        if (source.exhausted || source.buffer.length >= PAGE) return;
        try {
          const page = await this.fetchPage(source, PAGE, source.cursor);
          if (generation !== this.generation) return;
          source.error = null;
          source.buffer.push(...page);
          if (page.length) source.cursor = page[page.length - 1].doc.id;
          if (!source.loaded) source.top = page.length ? page[0].doc.id : null;
          source.loaded = true;
          if (page.length < PAGE) source.exhausted = true;
        } catch (error) {
          if (generation === this.generation) source.error = error.message;
        }
      }),
    );
    if (generation !== this.generation) return;
    this.loading = false;

    const batch = [];
    while (batch.length < PAGE) {
      let best = null;
      for (const source of this.sources.values()) {
        if (source.buffer.length && (!best || newerFirst(source.buffer[0], best.buffer[0]) < 0)) best = source;
      }
      if (!best) break;
      batch.push(best.buffer.shift());
    }
    this.append(batch);
    this.renderStatus();
  },

  card(item) {
    const { doc, node } = item;
    const li = h("li", "pub-card");
    li.dataset.node = node;
    li.dataset.id = String(doc.id);
    li.append(cardHead("pub-card", doc, node), h("p", "pub-card__text", doc.sentence));
    this.rememberAuthor(doc.author);
    return li;
  },

  rememberAuthor(author) {
    if (typeof author !== "string" || this.authors.has(author) || this.authors.size >= 200) return;
    this.authors.add(author);
    const option = document.createElement("option");
    option.value = author;
    $("pub-authors").append(option);
  },

  keyOf(item) {
    return `${item.node}\u0000${item.doc.id}`;
  },

  append(items) {
    const fragment = document.createDocumentFragment();
    for (const item of items) {
      const key = this.keyOf(item);
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      item.li = this.card(item);
      this.shown.push(item);
      fragment.append(item.li);
    }
    $("pub-list").append(fragment);
  },

  /** The element that scrolls the list: the list panel on wide screens, else the page. */
  scroller() {
    const box = $("pub-scroll");
    const style = getComputedStyle(box);
    if (/(auto|scroll)/.test(style.overflowY) && box.scrollHeight > box.clientHeight) return box;
    return document.scrollingElement || document.documentElement;
  },

  atTop() {
    const scroller = this.scroller();
    if (scroller === $("pub-scroll")) return scroller.scrollTop < 4;
    // Page scroll: the reader sees the start of the list.
    return $("pub-list").getBoundingClientRect().top >= -4;
  },

  scrollToTop() {
    const scroller = this.scroller();
    if (scroller === $("pub-scroll")) scroller.scrollTop = 0;
    else $("publications").scrollIntoView({ block: "start" });
    this.clearNotice();
  },

  clearNotice() {
    this.unseen = 0;
    this.overflowed = false;
    $("pub-new").hidden = true;
  },

  showNotice() {
    const button = $("pub-new");
    button.textContent = this.overflowed
      ? "Many new sentences · reload the list"
      : `${this.unseen} new sentence${this.unseen === 1 ? "" : "s"} · back to top`;
    button.hidden = false;
  },

  /** Every few seconds: sentences newer than what each source has shown are prepended. */
  async pollNew() {
    if (this.loading || this.polling || !this.started) return;
    this.polling = true;
    try {
      await this.findNew();
    } finally {
      this.polling = false;
    }
  },

  async findNew() {
    const generation = this.generation;
    const fresh = [];
    let overflow = false;
    let recovered = false;
    await Promise.all(
      [...this.sources.values()].map(async (source) => {
        try {
          const page = await this.fetchPage(source, NEW_LIMIT, null);
          if (generation !== this.generation) return;
          if (!source.loaded) {
            // This node failed on the first load and answers again: reload the view.
            recovered = true;
            return;
          }
          source.error = null;
          const seen = source.top === null ? page.length : page.findIndex((item) => item.doc.id === source.top);
          if (seen === -1) overflow = true;
          const newer = seen === -1 ? page : page.slice(0, seen);
          if (newer.length) source.top = newer[0].doc.id;
          fresh.push(...newer);
        } catch (error) {
          if (generation === this.generation) source.error = error.message;
        }
      }),
    );
    // (A "Load more" that started meanwhile is fine: it appends at the other end.)
    if (generation !== this.generation) return;
    if ((recovered || overflow) && this.atTop()) {
      this.select(this.view, this.author, true);
      return;
    }
    if (overflow) this.overflowed = true;
    if (fresh.length) this.prepend(fresh.sort(newerFirst));
    else if (this.overflowed) this.showNotice();
    this.renderStatus();
  },

  /**
   * Inserts new cards at the top. If the reader has scrolled into the list, the
   * first visible card is used as an anchor and the scroll position is moved by
   * however far the insert pushed it, so what they are reading stays put.
   */
  prepend(items) {
    const list = $("pub-list");
    const scroller = this.scroller();
    const atTop = this.atTop();
    const anchor = atTop ? null : this.firstVisibleCard(scroller);
    const before = anchor ? anchor.getBoundingClientRect().top : 0;

    const fragment = document.createDocumentFragment();
    const added = [];
    for (const item of items) {
      const key = this.keyOf(item);
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      item.li = this.card(item);
      item.li.classList.add("is-new");
      added.push(item);
      fragment.append(item.li);
    }
    if (!added.length) return;
    list.prepend(fragment);
    this.shown.unshift(...added);

    if (anchor) {
      const shift = anchor.getBoundingClientRect().top - before;
      if (scroller === $("pub-scroll")) scroller.scrollTop += shift;
      else window.scrollBy(0, shift);
      this.unseen += added.length;
      this.showNotice();
    } else {
      this.trim();
    }
  },

  firstVisibleCard(scroller) {
    const limit = scroller === $("pub-scroll") ? scroller.getBoundingClientRect().top : 0;
    for (const item of this.shown) {
      if (item.li.getBoundingClientRect().bottom > limit) return item.li;
    }
    return null;
  },

  /**
   * Keeps the DOM bounded while new sentences stream in at the top: cards past
   * MAX_SHOWN go back into their source's buffer (at most a page each, moving the
   * cursor back accordingly), so "Load more" still continues without a gap.
   */
  trim() {
    if (this.shown.length <= MAX_SHOWN) return;
    const removed = this.shown.splice(MAX_SHOWN);
    const perSource = new Map();
    for (const item of removed) {
      item.li.remove();
      this.keys.delete(this.keyOf(item));
      if (!perSource.has(item.node)) perSource.set(item.node, []);
      perSource.get(item.node).push({ node: item.node, doc: item.doc });
    }
    for (const [name, items] of perSource) {
      const source = this.sources.get(name);
      if (!source) continue;
      source.buffer = items.concat(source.buffer);
      if (source.buffer.length > PAGE) {
        source.buffer.length = PAGE;
        source.cursor = source.buffer[PAGE - 1].doc.id;
        source.exhausted = false;
      }
    }
  },

  /** More to show, or a node to retry (one that failed keeps "Load more" enabled). */
  hasMore() {
    for (const source of this.sources.values()) {
      if (source.buffer.length || !source.exhausted) return true;
    }
    return false;
  },

  renderStatus() {
    const shown = this.shown.length;
    const more = this.hasMore();
    let text;
    if (this.author) {
      text = `Showing ${numberFormat.format(shown)} sentence${shown === 1 ? "" : "s"} by “${this.author}”${more ? "" : " (all)"}`;
    } else {
      let total = 0;
      for (const name of this.activeNames()) {
        const count = cluster.byName.get(name)?.database;
        if (typeof count === "number") total += count;
      }
      text = `Showing ${numberFormat.format(shown)} of ${numberFormat.format(Math.max(total, shown))}`;
    }
    if (this.loading) text += " · loading…";
    $("pub-status").textContent = text;

    const errors = [...this.sources.values()].filter((source) => source.error);
    const banner = $("pub-error");
    banner.hidden = errors.length === 0;
    banner.textContent = errors.map((source) => `Server ${source.name}: ${source.error}`).join(" · ");

    const button = $("pub-more");
    button.disabled = this.loading || !more;
    button.textContent = this.loading ? "Loading…" : more ? "Load more" : "All loaded";
    $("pub-list").setAttribute("aria-busy", this.loading ? "true" : "false");
    $("pub-list").dataset.empty = shown === 0 && !this.loading ? "true" : "false";
  },
};

function buildNodeSelector() {
  const select = $("pub-node");
  const current = select.value;
  select.replaceChildren(new Option("All", ""));
  for (const name of cluster.names) select.append(new Option(name, name));
  select.value = cluster.names.includes(current) ? current : "";
}

// ---------------------------------------------------------------------------
// Search

// Around each matched word in a hit's snippet. Private-use characters that the nodes
// never store, so splitting on them is exact and no sentence can fake a highlight.
const MARK_START = "\uE000";
const MARK_END = "\uE001";

/** A snippet as text nodes, matched words in <mark>s: markup in a sentence stays text. */
function snippetNodes(snippet) {
  const fragment = document.createDocumentFragment();
  let mark = null;
  for (const part of String(snippet ?? "").split(/([\uE000\uE001])/)) {
    if (part === MARK_START) {
      mark = h("mark", "search-hit__match");
      fragment.append(mark);
    } else if (part === MARK_END) {
      mark = null;
    } else if (part) {
      (mark || fragment).append(document.createTextNode(part));
    }
  }
  return fragment;
}

const search = {
  generation: 0,       // bumped on every search; a late answer for an older one is dropped

  init() {
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.run();
    });
    // A new filter applies to the words already searched for.
    $("search-author").addEventListener("change", () => {
      if ($("search-q").value.trim()) this.run();
    });
    // Emptying the box (its × or the keyboard) puts the panel back as it started.
    $("search-q").addEventListener("input", (event) => {
      if (!event.target.value.trim()) {
        this.generation += 1;
        this.show({});
      }
    });
  },

  async run() {
    const q = $("search-q").value.trim();
    const author = $("search-author").value;
    this.generation += 1;
    const generation = this.generation;
    if (!q) {
      // The API would only answer that q is required; say it in the user's terms.
      this.show({ status: "Type one or more words to search for." });
      return;
    }
    // The previous results stay until the new ones replace them: no flicker on a fast answer.
    $("search-status").textContent = `Searching for “${q}”…`;
    $("search-status").hidden = false;
    $("search-results").setAttribute("aria-busy", "true");

    const params = new URLSearchParams({ q, limit: String(SEARCH_LIMIT) });
    if (author) params.set("author", author);
    try {
      const { body } = await getJSON(`/search?${params}`);
      if (generation !== this.generation) return;
      if (!body || !Array.isArray(body.hits)) throw new ApiError("unexpected /search reply", 200);
      this.render(q, author, body);
    } catch (error) {
      if (generation !== this.generation) return;
      // 400: the query itself is wrong, and the API's message says how to fix it.
      const prefix = error.status === 400 ? "Not a valid search" : "Search failed";
      this.show({ error: `${prefix}: ${error.message}` });
    }
  },

  render(q, author, reply) {
    const { hits } = reply;
    const n = hits.length;
    const by = author ? ` by ${author}` : "";
    let status;
    if (n === 0) status = `No sentence matches “${q}”${by}.`;
    else if (n >= SEARCH_LIMIT) status = `The ${n} best matches for “${q}”${by}, best first.`;
    else status = `${n} sentence${n === 1 ? " matches" : "s match"} “${q}”${by}, best first.`;

    const notes = [];
    const missing = Array.isArray(reply.missing) ? reply.missing : [];
    for (const miss of missing) {
      notes.push(["partial", `Node ${miss.server} did not answer: ${miss.error}. Its sentences are missing here.`]);
    }
    if (reply.partial && !missing.length) notes.push(["partial", "Some nodes did not answer; their sentences are missing here."]);
    // Each node ranks only its newest matches of a very common word (--search-window).
    if (reply.truncated) {
      notes.push(["truncated", "Very common words: only each node's newest matches were ranked. More words narrow the search."]);
    }
    this.show({ status, notes, hits });
  },

  /** Puts the panel in one state; whatever is not given is cleared. */
  show({ status = "", notes = [], hits = [], error = "" }) {
    $("search-status").textContent = status;
    $("search-status").hidden = !status;
    $("search-notes").replaceChildren(...notes.map(([kind, text]) => h("li", `search-note search-note--${kind}`, text)));
    $("search-error").textContent = error;
    $("search-error").hidden = !error;
    $("search-results").replaceChildren(...hits.map((hit) => this.card(hit)));
    $("search-results").setAttribute("aria-busy", "false");
  },

  card(hit) {
    const node = String(hit.server ?? "");
    const li = h("li", "search-hit");
    li.dataset.node = node;
    li.dataset.id = String(hit.id);
    const text = h("p", "search-hit__snippet");
    text.append(snippetNodes(hit.snippet));
    // A long sentence is cut around its matches: the whole of it on hover.
    const shown = String(hit.snippet ?? "").replace(/[\uE000\uE001]/g, "");
    if (typeof hit.sentence === "string" && shown !== hit.sentence) text.title = hit.sentence;
    li.append(cardHead("search-hit", hit, node), text);
    return li;
  },
};

// ---------------------------------------------------------------------------

function start() {
  search.init();
  publications.init();
  // Charts are drawn at their real width: redraw when the layout changes.
  let pending = 0;
  const redraw = () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(renderCharts);
  };
  if ("ResizeObserver" in window) {
    const observer = new ResizeObserver(redraw);
    observer.observe($("chart-ram").parentElement);
  } else {
    window.addEventListener("resize", redraw);
  }
  pollNodes();
}

start();
