// The timeline picture of one event's tries: x = emulator time, one row per endpoint, a hollow
// mark where a try was scheduled, a filled one (coloured by status) where it was made.
// A classic script (not a module) on purpose: the web view loads it with <script src>, and the
// pytest report inlines the same file, so both draw the same picture. Text goes in as text only.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = { "0": "#1f9d55", "1": "#d69e2e", "2": "#3182ce", "3": "#e53e3e" };
  const NAMES = { "0": "success", "1": "pending", "2": "sending", "3": "fail" };
  const LABEL_W = 150, PLOT_W = 520, PAD = 14, ROW_H = 30, AXIS_H = 26;
  const NICE = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 6 * 3600, 12 * 3600, 86400,
    3 * 86400, 7 * 86400, 30 * 86400, 365 * 86400];

  function node(tag, attrs, text) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text != null) n.textContent = String(text);
    return n;
  }

  /** `30 s`, `5 min`, `2 h 5 min`, `3 d`. */
  function gap(seconds) {
    const s = Math.round(Math.abs(seconds));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min" + (s % 60 ? " " + (s % 60) + " s" : "");
    if (s < 86400) {
      const m = Math.floor((s % 3600) / 60);
      return Math.floor(s / 3600) + " h" + (m ? " " + m + " min" : "");
    }
    const h = Math.floor((s % 86400) / 3600);
    return Math.floor(s / 86400) + " d" + (h ? " " + h + " h" : "");
  }

  function seconds(value) {
    if (value == null || value === "") return null;
    if (typeof value === "number") return value;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms / 1000;
  }

  /**
   * Draw the tries. `spec` = {start, now, rows: [{label, tries: [{id, scheduled, attempted,
   * status, code, retry, manual}]}]}; times are unix seconds or RFC 3339 text.
   * `onSelect(id)` (optional) is called when a mark is clicked.
   */
  function draw(spec, onSelect) {
    const rows = spec.rows || [];
    const start = seconds(spec.start);
    const now = seconds(spec.now);
    const times = [];
    for (const row of rows) {
      for (const t of row.tries) {
        for (const v of [seconds(t.scheduled), seconds(t.attempted)]) if (v != null) times.push(v);
      }
    }
    if (start != null) times.push(start);
    if (now != null && times.length) times.push(now);
    const t0 = times.length ? Math.min(...times) : 0;
    const span = Math.max(1, (times.length ? Math.max(...times) : 1) - t0);
    // Retry gaps grow (30 s, 5 min, 30 min, 2 h, ...): on a linear axis the first tries would sit
    // on top of each other, so a long span is drawn on a log axis.
    const log = span > 600;
    const frac = (t) => (log ? Math.log1p(t - t0) / Math.log1p(span) : (t - t0) / span);
    const x = (t) => LABEL_W + PAD + frac(t) * PLOT_W;
    const height = AXIS_H + Math.max(1, rows.length) * ROW_H + 8;
    const width = LABEL_W + PLOT_W + 2 * PAD + 20;
    const svg = node("svg", {
      xmlns: SVG, width, height, viewBox: `0 0 ${width} ${height}`, class: "timeline",
      role: "img",
    });
    svg.append(node("title", {}, "Tries on the emulator clock" + (log ? " (log scale)" : "")));
    const axisY = AXIS_H - 8;
    svg.append(node("line", { x1: LABEL_W + PAD, y1: axisY, x2: LABEL_W + PAD + PLOT_W, y2: axisY,
      stroke: "#999" }));
    const ticks = log ? NICE.filter((v) => v <= span) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * span);
    if (log) ticks.unshift(0);
    if (log && span - ticks[ticks.length - 1] > span * 0.2) ticks.push(span);
    let lastX = -Infinity;
    for (const offset of ticks) {
      const tx = x(t0 + offset);
      if (tx - lastX < 38) continue;
      lastX = tx;
      svg.append(node("line", { x1: tx, y1: axisY - 3, x2: tx, y2: height - 6, stroke: "#ddd" }));
      svg.append(node("text", { x: tx, y: axisY - 5, "text-anchor": "middle", class: "tick" },
        offset === 0 ? "0" : "+" + gap(offset)));
    }
    rows.forEach((row, index) => {
      const y = AXIS_H + index * ROW_H + ROW_H / 2;
      const label = node("text", { x: LABEL_W - 4, y: y + 4, "text-anchor": "end", class: "lane" },
        row.label.length > 22 ? row.label.slice(0, 21) + "…" : row.label);
      label.append(node("title", {}, row.label));
      svg.append(label);
      svg.append(node("line", { x1: LABEL_W + PAD, y1: y, x2: LABEL_W + PAD + PLOT_W, y2: y,
        stroke: "#eee" }));
      row.tries.forEach((t, n) => {
        const status = String(t.status);
        const colour = COLOURS[status] || "#718096";
        const scheduled = seconds(t.scheduled);
        const attempted = seconds(t.attempted);
        const group = node("g", { class: "try", "data-status": NAMES[status] || status });
        const parts = [`try ${n + 1}${t.manual ? " (manual retry)" : ""}: ${NAMES[status] || status}`];
        if (scheduled != null) parts.push("scheduled +" + gap(scheduled - t0));
        if (attempted != null) parts.push("made +" + gap(attempted - t0));
        if (t.code) parts.push("HTTP " + t.code);
        group.append(node("title", {}, parts.join(", ")));
        if (scheduled != null && attempted != null && Math.abs(attempted - scheduled) >= 1) {
          group.append(node("line", { x1: x(scheduled), y1: y, x2: x(attempted), y2: y,
            stroke: colour, "stroke-dasharray": "3 2" }));
        }
        if (scheduled != null) {
          group.append(node("circle", { cx: x(scheduled), cy: y, r: 6, fill: "#fff",
            stroke: colour, "stroke-width": 2, class: "scheduled" }));
        }
        if (attempted != null) {
          group.append(node("circle", { cx: x(attempted), cy: y, r: 4.5, fill: colour,
            class: "made" }));
        }
        if (onSelect && t.id) {
          group.style.cursor = "pointer";
          group.addEventListener("click", () => onSelect(t.id));
        }
        svg.append(group);
      });
    });
    if (now != null) {
      const nx = x(now);
      svg.append(node("line", { x1: nx, y1: axisY, x2: nx, y2: height - 4, stroke: "#805ad5",
        "stroke-dasharray": "4 3", class: "now" }));
      svg.append(node("text", { x: nx + 3, y: height - 6, class: "tick now" }, "now"));
    }
    return svg;
  }

  /** Timeline rows from an event's attempts (detail form) and the endpoint uids' order. */
  function rowsFrom(attempts) {
    const lanes = new Map();
    const sorted = [...attempts].sort((a, b) =>
      (seconds(a.scheduled_at) ?? 0) - (seconds(b.scheduled_at) ?? 0));
    for (const a of sorted) {
      const lane = a.endpoint_id || "?";
      if (!lanes.has(lane)) lanes.set(lane, []);
      lanes.get(lane).push({
        id: a.id, scheduled: a.scheduled_at, attempted: a.attempted_at, status: a.status,
        code: a.response_status_code, retry: a.retry_count, manual: String(a.trigger_type) === "1",
      });
    }
    return [...lanes].map(([label, tries]) => ({ label, tries }));
  }

  globalThis.simplyqTimeline = { draw, rowsFrom, gap, seconds, NAMES, COLOURS };
})();
