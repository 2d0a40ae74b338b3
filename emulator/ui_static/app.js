// The web view: lists an application's events and attempts, keeps them current from the change
// feed, and shows one event (its timeline) or one attempt (request, response, signature check).
import { Api, ApiError, path, rawMember } from "./api.js";
import { el, fill, headersTable, short, STATUS, when } from "./dom.js";
import { Feed } from "./feed.js";
import { check } from "./signature.js";

const ROW_H = 27; // .row height + its border, in CSS pixels
const OVERSCAN = 10;
const timeline = globalThis.simplyqTimeline;
const $ = (id) => document.getElementById(id);
const api = new Api(localStorage);
// `?env=...&app=...` opens the page on one application (links from elsewhere, tests).
const wanted = new URLSearchParams(location.search);
const preferred = (name) => wanted.get(name) || localStorage.getItem("simplyq." + name);

const state = {
  envs: [], env: null, app: null,
  endpoints: new Map(), events: [], eventIndex: new Map(),
  attempts: new Map(), byEvent: new Map(), types: new Set(),
  tab: "events", filters: { search: "", type: "", endpoint: "", status: "" },
  selected: null, clock: null, generation: 0, dirty: true, shown: [],
  firstRows: false,
};

// ------------------------------------------------------------------ small helpers
function notice(text, isError = false) {
  const node = $("notice");
  node.textContent = text;
  node.hidden = !text;
  node.classList.toggle("error", isError);
}

async function act(what, fn) {
  try {
    const result = await fn();
    notice(what);
    return result;
  } catch (error) {
    notice(error instanceof ApiError ? `${what} failed: ${error.message}` : String(error), true);
    return undefined;
  }
}

const appPath = (suffix = "", ...uids) => path("/v1/application/{}" + suffix, state.app, ...uids);
const envKey = () => (state.env ? state.env.api_key : api.controlKey);
const secondsOf = (v) => timeline.seconds(v);
const attemptTime = (a) => secondsOf(a.attempted_at) ?? secondsOf(a.scheduled_at) ?? 0;

let frame = 0;
function schedule(dirty = true) {
  if (dirty) state.dirty = true;
  if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); });
}

// ------------------------------------------------------------------ the model
function addEvent(event) {
  if (state.eventIndex.has(event.uid)) return false;
  state.eventIndex.set(event.uid, event);
  state.events.push(event);
  if (!state.types.has(event.event_type)) {
    state.types.add(event.event_type);
    state.typesChanged = true;
  }
  return true;
}

function addAttempt(attempt) {
  const known = state.attempts.get(attempt.id);
  if (known) Object.assign(known, attempt);
  else state.attempts.set(attempt.id, { ...attempt });
  let ids = state.byEvent.get(attempt.event_id);
  if (!ids) state.byEvent.set(attempt.event_id, (ids = new Set()));
  ids.add(attempt.id);
}

function attemptsOf(uid) {
  return [...(state.byEvent.get(uid) || [])].map((id) => state.attempts.get(id))
    .sort((a, b) => attemptTime(a) - attemptTime(b));
}

/** The state of the event's delivery to each endpoint: its latest try's status. */
function latestByEndpoint(uid) {
  const latest = new Map();
  for (const a of attemptsOf(uid)) latest.set(a.endpoint_id, a);
  return latest;
}

function eventStatus(uid) {
  const statuses = [...latestByEndpoint(uid).values()].map((a) => String(a.status));
  if (!statuses.length) return null;
  for (const s of ["3", "2", "1"]) if (statuses.includes(s)) return s;
  return "0";
}

function applyChange(change) {
  if (!state.envs.some((e) => e.id === change.env)) {
    refreshEnvironments();
    return;
  }
  if (!state.env || change.env !== state.env.id) return;
  const data = change.data || {};
  if (change.kind === "application") {
    const apps = state.env.applications;
    if (change.action === "deleted") state.env.applications = apps.filter((a) => a !== data.uid);
    else if (!apps.includes(data.uid)) apps.push(data.uid);
    renderSelectors();
    if (!state.app && change.action !== "deleted") selectApp(data.uid);
    if (state.app === data.uid && change.action === "deleted") {
      const apps = state.env.applications;
      selectApp(apps.length ? apps[apps.length - 1] : null);
    }
    return;
  }
  if (data.app_id !== state.app) return;
  if (change.kind === "endpoint") {
    if (change.action === "deleted") state.endpoints.delete(data.uid);
    else state.endpoints.set(data.uid, data);
    renderEndpoints();
    renderEndpointFilter();
  } else if (change.kind === "event") {
    addEvent(data);
    state.listing?.streamed.push(data.uid);
  } else if (change.kind === "attempt") {
    addAttempt(data);
    state.listing?.streamedAttempts.add(data.id);
    if (state.selected && (state.selected.id === data.event_id || state.selected.id === data.id)) {
      refreshDetailSoon();
    }
  }
  schedule();
}

// ------------------------------------------------------------------ loading
/** List the environments; `reload` lists the selected application again too. */
async function refreshEnvironments(reload = false) {
  if (refreshEnvironments.pending) {
    // A change from an environment or application the answer on its way may predate.
    refreshEnvironments.again = true;
    return;
  }
  refreshEnvironments.pending = true;
  try {
    const body = await api.call("GET", "/_emulator/environments");
    state.envs = body.data;
    const saved = preferred("env");
    const current = state.env && state.envs.find((e) => e.id === state.env.id);
    if (current) {
      state.env = current;
      renderSelectors();
      if (!state.app && current.applications.length) await selectApp(current.applications[0]);
      else if (reload) await loadApp();
    } else {
      const pick = state.envs.find((e) => e.id === saved)
        || state.envs.find((e) => e.applications.length) || state.envs[0] || null;
      await selectEnv(pick ? pick.id : null);
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setConnection("unauthorized", "enter one of the emulator's API keys (it runs with --api-key)");
    } else {
      notice(`cannot list environments: ${error.message}`, true);
    }
  } finally {
    refreshEnvironments.pending = false;
  }
  if (refreshEnvironments.again) {
    refreshEnvironments.again = false;
    await refreshEnvironments();
  }
}

async function selectEnv(id) {
  state.env = state.envs.find((e) => e.id === id) || null;
  if (state.env) localStorage.setItem("simplyq.env", state.env.id);
  renderSelectors();
  const apps = state.env ? state.env.applications : [];
  const saved = preferred("app");
  await selectApp(apps.includes(saved) ? saved : apps[apps.length - 1] || null);
}

async function selectApp(uid) {
  state.app = uid;
  if (uid) localStorage.setItem("simplyq.app", uid);
  renderSelectors();
  await loadApp();
}

/**
 * List the selected application: endpoints, then every event, then every attempt. Listing the
 * same application again (after a reconnect) keeps the rows shown meanwhile, then drops what
 * is gone (the emulator was reset while away).
 */
async function loadApp() {
  const generation = ++state.generation;
  const stale = () => generation !== state.generation;
  const again = Boolean(state.app) && state.loadedApp === state.app;
  if (!again) {
    Object.assign(state, {
      events: [], eventIndex: new Map(), attempts: new Map(), byEvent: new Map(),
      types: new Set(), typesChanged: true, firstRows: false, selected: null,
    });
    fill($("detail"), el("p", { class: "muted", text: "Pick an event or an attempt." }));
  }
  state.loadedApp = state.app;
  const listed = { events: [], attempts: new Set(), streamed: [], streamedAttempts: new Set() };
  state.listing = listed;
  state.endpoints = new Map();
  renderEndpoints();
  schedule();
  if (!state.app) return;
  const key = envKey();
  try {
    await api.pages(appPath("/endpoint"), key, (items) => {
      if (stale()) return false;
      for (const ep of items) state.endpoints.set(ep.uid, ep);
      return true;
    });
    renderEndpoints();
    renderEndpointFilter();
    // Events and each endpoint's attempts are listed side by side.
    await Promise.all([api.pages(appPath("/event"), key, (items) => {
      if (stale()) return false;
      for (const event of items) {
        listed.events.push(event.uid);
        addEvent(event);
      }
      schedule();
      return true;
    }), ...[...state.endpoints.keys()].map((ep) =>
      api.pages(appPath("/endpoint/{}/delivery_attempt", ep), key, (items) => {
        if (stale()) return false;
        for (const attempt of items) {
          listed.attempts.add(attempt.id);
          addAttempt(attempt);
        }
        schedule();
        return true;
      }))]);
    if (stale()) return;
    if (again) prune(listed);
    state.listing = null;
    performance.mark("simplyq:loaded");
    refreshDetailSoon();
  } catch (error) {
    if (!stale()) notice(`cannot list application ${state.app}: ${error.message}`, true);
  }
}

/** After listing again: keep what was listed or streamed meanwhile, in the listing's order. */
function prune(listed) {
  const order = [...listed.events, ...listed.streamed];
  const kept = [...new Set(order)].map((uid) => state.eventIndex.get(uid)).filter(Boolean);
  state.events = kept;
  state.eventIndex = new Map(kept.map((e) => [e.uid, e]));
  for (const [id, attempt] of state.attempts) {
    if (!listed.attempts.has(id) && !listed.streamedAttempts.has(id)) {
      state.attempts.delete(id);
      state.byEvent.get(attempt.event_id)?.delete(id);
    }
  }
  schedule();
}

async function refreshClock() {
  try {
    const before = state.clock?.unix;
    state.clock = await api.call("GET", "/_emulator/clock");
    // The timeline's "now" line moves with the clock.
    if (state.clock.unix !== before && state.selected?.kind === "event") refreshDetailSoon();
    $("clock-now").textContent = "clock: " + when(state.clock.now);
    $("clock-due").textContent = state.clock.next_due ? "next due " + when(state.clock.next_due) : "nothing due";
  } catch {
    $("clock-now").textContent = "clock: —";
  }
}

// ------------------------------------------------------------------ rendering: selectors
function options(select, items, current, placeholder) {
  fill(select, placeholder ? el("option", { value: "", text: placeholder }) : null,
    items.map(([value, label]) => el("option", { value, text: label, selected: value === current })));
}

function renderSelectors() {
  options($("env"), state.envs.map((e) => [e.id, e.id]), state.env?.id, state.envs.length ? null : "(none yet)");
  const apps = state.env ? state.env.applications : [];
  options($("app"), apps.map((a) => [a, a]), state.app, apps.length ? null : "(none yet)");
}

function renderEndpointFilter() {
  const current = state.filters.endpoint;
  options($("f-endpoint"), [...state.endpoints.keys()].map((u) => [u, u]), current, "any endpoint");
}

function renderTypeFilter() {
  if (!state.typesChanged) return;
  state.typesChanged = false;
  options($("f-type"), [...state.types].sort().map((t) => [t, t]), state.filters.type, "any event type");
}

// ------------------------------------------------------------------ rendering: the list
function filtered() {
  const { search, type, endpoint, status } = state.filters;
  const needle = search.trim().toLowerCase();
  if (state.tab === "events") {
    const out = [];
    for (let i = state.events.length - 1; i >= 0; i -= 1) {
      const e = state.events[i];
      if (type && e.event_type !== type) continue;
      if (needle && !e.uid.toLowerCase().includes(needle)) continue;
      if (endpoint && !attemptsOf(e.uid).some((a) => a.endpoint_id === endpoint)) continue;
      if (status && eventStatus(e.uid) !== status) continue;
      out.push(e);
    }
    return out;
  }
  const out = [];
  for (const a of state.attempts.values()) {
    if (endpoint && a.endpoint_id !== endpoint) continue;
    if (status && String(a.status) !== status) continue;
    if (needle && !a.id.toLowerCase().includes(needle) && !a.event_id.toLowerCase().includes(needle)) continue;
    if (type && state.eventIndex.get(a.event_id)?.event_type !== type) continue;
    out.push(a);
  }
  return out.sort((x, y) => attemptTime(y) - attemptTime(x));
}

function badge(status, text) {
  const s = status == null ? "none" : String(status);
  return el("span", { class: `badge s-${s}`, text: text ?? (STATUS[s] || "no attempt") });
}

function eventRow(e) {
  const latest = [...latestByEndpoint(e.uid).values()];
  const tries = state.byEvent.get(e.uid)?.size || 0;
  return el("div", {
    class: "row" + (state.selected?.id === e.uid ? " selected" : ""),
    dataset: { event: e.uid }, onclick: () => select("event", e.uid),
  },
  el("span", { text: when(e.created_at) }),
  el("span", { text: e.uid, title: e.uid }),
  el("span", { text: e.event_type, title: e.event_type }),
  el("span", {}, latest.length ? latest.map((a) => badge(a.status, `${a.endpoint_id}`)) : badge(null)),
  el("span", { text: `${tries} ${tries === 1 ? "try" : "tries"}` }));
}

function attemptRow(a) {
  return el("div", {
    class: "row" + (state.selected?.id === a.id ? " selected" : ""),
    dataset: { attempt: a.id }, onclick: () => select("attempt", a.id),
  },
  el("span", { text: when(a.attempted_at || a.scheduled_at) }),
  el("span", { text: a.event_id, title: a.event_id }),
  el("span", { text: a.endpoint_id, title: a.endpoint_id }),
  el("span", {}, badge(a.status), String(a.trigger_type) === "1" ? " manual" : ""),
  el("span", { text: a.response_status_code ? `HTTP ${a.response_status_code}` : "—" }));
}

function renderHead() {
  const names = state.tab === "events"
    ? ["created", "event uid", "type", "deliveries", "tries"]
    : ["attempted / due", "event uid", "endpoint", "status", "response"];
  fill($("head"), names.map((n) => el("span", { text: n })));
}

function render() {
  renderTypeFilter();
  if (state.dirty) {
    state.shown = filtered();
    state.dirty = false;
    $("count").textContent = `${state.shown.length} of ${state.tab === "events"
      ? state.events.length + " events" : state.attempts.size + " attempts"}`;
  }
  const rows = $("rows");
  const total = state.shown.length;
  $("spacer").style.height = total * ROW_H + "px";
  const first = Math.max(0, Math.floor(rows.scrollTop / ROW_H) - OVERSCAN);
  const count = Math.ceil((rows.clientHeight || 520) / ROW_H) + 2 * OVERSCAN;
  const windowNode = $("window");
  windowNode.style.transform = `translateY(${first * ROW_H}px)`;
  const make = state.tab === "events" ? eventRow : attemptRow;
  fill(windowNode, state.shown.slice(first, first + count).map(make));
  if (!state.firstRows && total) {
    state.firstRows = true;
    performance.mark("simplyq:first-rows");
  }
}

// ------------------------------------------------------------------ the detail panel
let detailTimer = 0;
function refreshDetailSoon() {
  if (!state.selected || detailTimer) return;
  detailTimer = setTimeout(() => { detailTimer = 0; renderDetail(); }, 100);
}

async function select(kind, id) {
  state.selected = { kind, id };
  schedule(false);
  await renderDetail();
}

async function renderDetail() {
  const selected = state.selected;
  if (!selected) return;
  const node = $("detail");
  const scroll = node.scrollTop;
  const built = selected.kind === "event" ? await eventDetail(selected.id) : await attemptDetail(selected.id);
  if (state.selected !== selected) return; // another one was picked meanwhile
  // Keep what the user typed into the signature panel across a refresh.
  const typed = node.querySelector("#secret")?.value;
  fill(node, built);
  if (typed) node.querySelector("#secret").value = typed;
  node.scrollTop = scroll;
}

async function details(attempts) {
  // The listing gives the wire form; the timeline needs when each try was scheduled.
  await Promise.all(attempts.filter((a) => !a.scheduled_at).map(async (a) => {
    try {
      addAttempt(await api.call("GET", path("/_emulator/attempts/{}", a.id)));
    } catch { /* gone: drawn without its schedule */ }
  }));
}

async function eventDetail(uid) {
  const event = state.eventIndex.get(uid);
  if (!event) return el("p", { class: "muted", text: `event ${uid} is not in this application` });
  await details(attemptsOf(uid));
  const attempts = attemptsOf(uid);
  const endpoints = [...new Set([...event.endpoints || [], ...attempts.map((a) => a.endpoint_id)])];
  const picture = timeline.draw({
    start: event.created_at, now: state.clock?.unix, rows: timeline.rowsFrom(attempts),
  }, (id) => select("attempt", id));
  return el("div", { class: "event-detail", dataset: { event: uid } },
    el("h2", { text: `Event ${uid}` }),
    el("table", { class: "kv" }, el("tbody", {},
      el("tr", {}, el("th", { text: "type" }), el("td", { text: event.event_type })),
      el("tr", {}, el("th", { text: "published" }), el("td", { text: when(event.created_at) })),
      el("tr", {}, el("th", { text: "topics" }), el("td", { text: (event.topics || []).join(", ") || "—" })),
      el("tr", {}, el("th", { text: "version" }), el("td", { text: event.version || "—" })))),
    el("h3", { text: "Timeline (emulator clock)" }),
    attempts.length ? picture : el("p", { class: "muted", text: "no tries yet" }),
    el("div", { class: "buttons" }, endpoints.map((ep) =>
      el("button", { type: "button", class: "retry", dataset: { endpoint: ep },
        onclick: () => retry(ep, uid), text: `Retry to ${ep}` }))),
    el("h3", { text: `Attempts (${attempts.length})` }),
    attemptsTable(attempts),
    el("h3", { text: "Payload" }),
    el("pre", { class: "payload", text: JSON.stringify(event.payload, null, 2) }));
}

function attemptsTable(attempts) {
  return el("table", { class: "list attempts" },
    el("thead", {}, el("tr", {}, ["endpoint", "status", "response", "scheduled", "made", "retry"]
      .map((n) => el("th", { text: n })))),
    el("tbody", {}, attempts.map((a) => el("tr", {
      class: "clickable", dataset: { attempt: a.id }, onclick: () => select("attempt", a.id),
    },
    el("td", { text: a.endpoint_id }), el("td", {}, badge(a.status)),
    el("td", { text: a.response_status_code || "—" }), el("td", { text: short(a.scheduled_at) }),
    el("td", { text: short(a.attempted_at) }),
    el("td", { text: `${a.retry_count}${String(a.trigger_type) === "1" ? " (manual)" : ""}` })))));
}

async function attemptDetail(id) {
  let detail;
  let body = null;
  try {
    const { text } = await api.raw("GET", path("/_emulator/attempts/{}", id));
    detail = JSON.parse(text);
    body = rawMember(text, "payload");
    addAttempt(detail);
  } catch (error) {
    return el("p", { class: "muted", text: `attempt ${id}: ${error.message}` });
  }
  const sigResult = el("div", { class: "sig-result" });
  const secret = el("input", { id: "secret", type: "text", size: 40, placeholder: "paste the endpoint's secret" });
  const runCheck = async () => {
    if (!secret.value) return;
    const result = await check(detail.request_headers, body, secret.value);
    fill(sigResult,
      result.problems.map((p) => el("p", { class: "bad", text: p })),
      result.matched == null
        ? el("p", { class: "bad", text: "no signature matches this secret" })
        : el("p", { class: "ok", text: `signature ${result.matched + 1} of ${result.signatures.length} matches this secret` }),
      el("ol", {}, result.signatures.map((s) =>
        el("li", { class: s.matches ? "ok" : "", text: `${s.value} ${s.matches ? "✓ matches" : "✗"}` }))));
  };
  const useCurrent = async () => {
    const answer = await act("fetched the endpoint's current secret", () =>
      api.call("GET", appPath("/endpoint/{}/secret", detail.endpoint_id), { key: envKey() }));
    if (answer) {
      secret.value = answer.key;
      await runCheck();
    }
  };
  const sent = detail.request_headers != null;
  return el("div", { class: "attempt-detail", dataset: { attempt: id } },
    el("h2", { text: `Attempt ${id}` }),
    el("div", { class: "buttons" },
      el("button", { type: "button", text: "← event", onclick: () => select("event", detail.event_id) }),
      el("button", { type: "button", class: "retry", text: "Retry",
        onclick: () => retry(detail.endpoint_id, detail.event_id) })),
    el("table", { class: "kv" }, el("tbody", {},
      [["event", detail.event_id], ["endpoint", detail.endpoint_id],
        ["status", STATUS[String(detail.status)] || detail.status],
        ["trigger", String(detail.trigger_type) === "1" ? "manual retry" : "scheduled"],
        ["retry count", detail.retry_count], ["scheduled", when(detail.scheduled_at)],
        ["made", when(detail.attempted_at)],
        ["latency", detail.duration_ms == null ? "—" : `${Number(detail.duration_ms).toFixed(1)} ms`]]
        .map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v }))))),
    el("h3", { text: sent ? `Request: POST ${detail.endpoint_url ?? ""}` : "Request: not sent yet" }),
    headersTable(detail.request_headers),
    el("pre", { class: "request-body", text: body ?? "" }),
    el("h3", { text: `Response: ${detail.response_status_code || "none"}` }),
    headersTable(detail.response_headers),
    el("pre", { class: "response-body", text: detail.response ?? "" }),
    el("div", { class: "sig" },
      el("h3", { text: "Check the signature" }),
      el("div", { class: "buttons" }, secret,
        el("button", { type: "button", id: "check-signature", text: "Check", onclick: runCheck }),
        el("button", { type: "button", text: "Use the current secret", onclick: useCurrent })),
      sigResult));
}

// ------------------------------------------------------------------ actions
async function retry(endpoint, event) {
  await act(`retry of ${event} to ${endpoint} scheduled`, () =>
    api.call("POST", appPath("/endpoint/{}/event/{}", endpoint, event), { key: envKey() }));
}

async function clock(body, what) {
  const answer = await act(what, () => api.call("POST", "/_emulator/clock", { body }));
  if (answer && answer.settled === false) notice(`${what}: deliveries still running`, true);
  await refreshClock();
  refreshDetailSoon();
}

function renderEndpoints() {
  const list = $("endpoint-list");
  const endpoints = [...state.endpoints.values()];
  if (!endpoints.length) {
    fill(list, el("p", { class: "muted", text: state.app ? "no endpoints" : "no application selected" }));
    return;
  }
  const since = el("input", { type: "datetime-local", step: 1, "aria-label": "recover since" });
  fill(list, el("table", { class: "list" },
    el("thead", {}, el("tr", {}, ["uid", "url", "active", ""].map((n) => el("th", { text: n })))),
    el("tbody", {}, endpoints.map((ep) => el("tr", { dataset: { endpoint: ep.uid } },
      el("td", { text: ep.uid }), el("td", { text: ep.url }),
      el("td", { text: ep.active ? "yes" : "no" }),
      el("td", {}, el("div", { class: "buttons" },
        el("button", { type: "button", class: "toggle", text: ep.active ? "Disable" : "Enable",
          onclick: () => act(`endpoint ${ep.uid} ${ep.active ? "disabled" : "enabled"}`, () =>
            api.call("PUT", appPath("/endpoint/{}", ep.uid), { key: envKey(), body: { active: !ep.active } })) }),
        el("button", { type: "button", class: "rotate", text: "Rotate secret",
          onclick: () => act(`secret of ${ep.uid} rotated`, () =>
            api.call("POST", appPath("/endpoint/{}/secret", ep.uid), { key: envKey(), body: {} })) }),
        el("button", { type: "button", class: "recover", text: "Recover since ↓",
          onclick: () => recover(ep.uid, since.value) }))))))),
  el("label", {}, "Recover since (UTC) ", since));
}

async function recover(endpoint, local) {
  if (!local) {
    notice("pick a time to recover since", true);
    return;
  }
  const iso = (local.length === 16 ? local + ":00" : local) + "Z";
  await act(`recovery of ${endpoint} since ${iso} started`, () =>
    api.call("POST", appPath("/endpoint/{}/recover", endpoint), { key: envKey(), body: { since: iso } }));
}

async function publish(form) {
  if (!state.app) {
    notice("no application selected", true);
    return;
  }
  let payload;
  try {
    payload = JSON.parse(form.payload.value);
  } catch (error) {
    notice(`the payload is not JSON: ${error.message}`, true);
    return;
  }
  const body = { event_type: form.event_type.value, payload };
  if (form.uid.value.trim()) body.uid = form.uid.value.trim();
  const topics = form.topics.value.split(",").map((t) => t.trim()).filter(Boolean);
  if (topics.length) body.topics = topics;
  const event = await act("published", () => api.call("POST", appPath("/event"), { key: envKey(), body }));
  if (event) notice(`published ${event.uid}`);
}

// ------------------------------------------------------------------ wiring
function setConnection(stateName, detail) {
  const node = $("conn");
  node.dataset.state = stateName;
  node.textContent = { live: "live", reconnecting: "reconnecting…", unauthorized: "API key needed",
    connecting: "connecting…" }[stateName] || stateName;
  node.title = detail || "";
  if (stateName === "unauthorized") notice(detail || "enter an API key", true);
}

function wire() {
  $("env").addEventListener("change", (e) => selectEnv(e.target.value));
  $("app").addEventListener("change", (e) => selectApp(e.target.value));
  $("keyform").addEventListener("submit", (e) => {
    e.preventDefault();
    api.setControlKey($("key").value.trim());
    notice("");
    feed.restart();
  });
  $("advance").addEventListener("submit", (e) => {
    e.preventDefault();
    const by = $("advance-by").value.trim();
    clock({ advance: /^[0-9.]+$/.test(by) ? Number(by) : by }, `clock advanced by ${by}`);
  });
  $("next-due").addEventListener("click", () => clock({ to_next_due: true }, "clock moved to the next due try"));
  $("run-idle").addEventListener("click", () => clock({ run_until_idle: true }, "ran until idle"));
  $("publish").addEventListener("submit", (e) => {
    e.preventDefault();
    publish(e.target);
  });
  for (const button of document.querySelectorAll(".tabs button")) {
    button.addEventListener("click", () => {
      state.tab = button.dataset.tab;
      for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("active", b === button);
      $("rows").scrollTop = 0;
      renderHead();
      schedule();
    });
  }
  const filters = { search: "search", type: "f-type", endpoint: "f-endpoint", status: "f-status" };
  for (const [name, id] of Object.entries(filters)) {
    $(id).addEventListener("input", (e) => {
      state.filters[name] = e.target.value;
      $("rows").scrollTop = 0;
      schedule();
    });
  }
  $("rows").addEventListener("scroll", () => schedule(false));
  window.addEventListener("resize", () => schedule(false));
}

const feed = new Feed({
  url: "/_emulator/stream",
  headers: () => api.headers(),
  onChange: applyChange,
  onState: setConnection,
  // (Re)connected: list again, since changes may have been missed while away.
  onOpen: async () => {
    notice("");
    await Promise.all([refreshEnvironments(true), refreshClock()]);
  },
});

$("key").value = api.controlKey;
wire();
renderHead();
renderEndpoints();
feed.start();
setInterval(refreshClock, 1000);
