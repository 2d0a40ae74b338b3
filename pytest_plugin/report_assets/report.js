// Draws the SimplyQ test report from its embedded JSON. Every value goes in as text
// (textContent / createElement): payloads, headers and bodies are whatever tests sent.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const timeline = globalThis.simplyqTimeline;
  const STATUS = { "0": "success", "1": "pending", "2": "sending", "3": "fail" };

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value == null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function headers(values) {
    const entries = Object.entries(values || {});
    if (!entries.length) return el("p", { class: "muted", text: "(no headers)" });
    return el("table", {}, el("tbody", {}, entries.map(([k, v]) =>
      el("tr", {}, el("th", { text: k }), el("td", { text: v })))));
  }

  function attempt(a, number, body) {
    const status = String(a.status);
    const manual = String(a.trigger_type) === "1" ? " (manual retry)" : "";
    return el("details", { class: "attempt", "data-attempt": a.id },
      el("summary", {},
        el("span", { class: `badge s-${status}`, text: STATUS[status] || status }),
        `try ${number} to ${a.endpoint_id}${manual}: `,
        a.response_status_code ? `HTTP ${a.response_status_code}` : "no response",
        el("span", { class: "muted", text: ` · ${a.attempted_at || "scheduled " + (a.scheduled_at || "")}` +
          (a.duration_ms != null ? ` · ${Number(a.duration_ms).toFixed(1)} ms` : "") })),
      el("div", { class: "exchange" },
        el("div", {}, el("h4", { text: `Request: POST ${a.endpoint_url || ""}` }),
          headers(a.request_headers), el("pre", { class: "request-body", text: body })),
        el("div", {}, el("h4", { text: `Response: ${a.response_status_code || "none"}` }),
          headers(a.response_headers), el("pre", { class: "response-body", text: a.response || "" }))));
  }

  /** Each attempt with its try number to its own endpoint. */
  function numbered(attempts) {
    const seen = new Map();
    return attempts.map((a) => {
      const n = (seen.get(a.endpoint_id) || 0) + 1;
      seen.set(a.endpoint_id, n);
      return [a, n];
    });
  }

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  function event(e) {
    const attempts = e.attempts || [];
    const body = e.body ?? JSON.stringify(e.payload);
    return el("div", { class: "event", "data-event": e.uid },
      el("h4", {}, `${e.event_type} `, el("span", { class: "muted", text: `${e.uid} · ${e.created_at}` })),
      attempts.length
        ? timeline.draw({ start: e.created_at, rows: timeline.rowsFrom(attempts) })
        : el("p", { class: "muted", text: "no tries" }),
      el("pre", { class: "payload", text: JSON.stringify(e.payload, null, 2) }),
      numbered(attempts).map(([a, n]) => attempt(a, n, body)));
  }

  function test(t) {
    const events = t.applications.reduce((n, a) => n + a.events.length, 0);
    const attempts = t.applications.reduce((n, a) =>
      n + a.events.reduce((m, e) => m + (e.attempts || []).length, 0), 0);
    const bad = t.outcome === "failed" || t.outcome === "error";
    return el("details", { class: "test", "data-outcome": t.outcome, "data-nodeid": t.nodeid, open: bad },
      el("summary", {}, el("span", { class: `badge o-${t.outcome}`, text: t.outcome }), t.nodeid,
        el("span", { class: "muted", text: ` · ${plural(events, "event", "events")}, ${plural(attempts, "attempt", "attempts")} · ${t.duration} s` })),
      el("div", { class: "body" },
        t.failure ? el("pre", { class: "failure", text: t.failure }) : null,
        t.notes.map((n) => el("p", { class: "muted", text: n })),
        t.applications.map((app) => el("section", { class: "application" },
          el("h3", { text: `Application ${app.uid}` }),
          app.endpoints.length
            ? el("p", { class: "muted", text: "endpoints: " + app.endpoints.map((e) => `${e.uid} → ${e.url}`).join(", ") })
            : null,
          app.events.map(event))),
        t.applications.length ? null : el("p", { class: "muted", text: "published nothing" })));
  }

  const counts = {};
  for (const t of data.tests) counts[t.outcome] = (counts[t.outcome] || 0) + 1;
  document.getElementById("summary").textContent = `${data.tests.length} tests: ` +
    Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ") +
    ` · ${data.duration} s · written ${data.generated}`;
  document.getElementById("tests").replaceChildren(...data.tests.map(test));
})();
