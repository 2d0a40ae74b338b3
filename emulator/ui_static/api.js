// The page's only way to the emulator: the SimplyQ API (`/v1/...`, with an environment's key)
// and the control API (`/_emulator/...`, with the key the user gave, when it was started with
// --api-key).

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

function describe(status, body) {
  if (body && typeof body === "object") {
    if (Array.isArray(body.errors)) {
      return `${status}: ` + body.errors.map((e) => `${e.field}: ${e.error}`).join("; ");
    }
    if (body.error) return `${status}: ${body.error}`;
  }
  return status ? `HTTP ${status}` : "the emulator does not answer";
}

/** `/v1/application/{a}/event/{b}` with every uid escaped as one path segment. */
export function path(template, ...uids) {
  let i = 0;
  return template.replace(/\{\}/g, () => encodeURIComponent(uids[i++]));
}

export class Api {
  constructor(storage) {
    this.storage = storage;
    this.controlKey = storage.getItem("simplyq.key") || "";
  }

  setControlKey(key) {
    this.controlKey = key;
    if (key) this.storage.setItem("simplyq.key", key);
    else this.storage.removeItem("simplyq.key");
  }

  headers(key) {
    const k = key || this.controlKey;
    return k ? { Authorization: "Bearer " + k } : {};
  }

  /** The raw answer: {status, text}; throws ApiError when not 2xx. */
  async raw(method, url, { key, body, query } = {}) {
    const headers = { Accept: "application/json", ...this.headers(key) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const full = url + (query ? "?" + new URLSearchParams(query) : "");
    let response;
    try {
      response = await fetch(full, {
        method, headers, cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, null);
    }
    const text = await response.text();
    if (!response.ok) {
      let parsed = null;
      try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
      throw new ApiError(response.status, parsed);
    }
    return { status: response.status, text };
  }

  async call(method, url, options = {}) {
    const { text } = await this.raw(method, url, options);
    return text ? JSON.parse(text) : null;
  }

  /** Every page of a list, oldest first; `onPage(items)` for each as it arrives. */
  async pages(url, key, onPage, query = {}) {
    let after = null;
    for (;;) {
      const q = { ...query, limit: "150" };
      if (after) q.starting_after = after;
      const page = await this.call("GET", url, { key, query: q });
      const items = page.data || [];
      if (!(await onPage(items))) return;
      if (!page.has_more || !items.length) return;
      const last = items[items.length - 1];
      after = last.uid ?? last.id;
    }
  }
}

/**
 * The text of one top-level member of a JSON object, exactly as it was written: the control
 * API writes an event's payload the way a delivery's body was written, so this is the body as
 * sent (JSON.parse + JSON.stringify would not be: 1.0 becomes 1, big integers are rounded).
 */
export function rawMember(text, name) {
  let i = ws(text, 0);
  if (text[i] !== "{") return null;
  i += 1;
  for (;;) {
    i = ws(text, i);
    if (text[i] !== '"') return null;
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd));
    i = ws(text, keyEnd);
    if (text[i] !== ":") return null;
    i = ws(text, i + 1);
    const end = skipValue(text, i);
    if (key === name) return text.slice(i, end);
    i = ws(text, end);
    if (text[i] !== ",") return null;
    i += 1;
  }
}

function ws(text, i) {
  while (i < text.length && " \t\r\n".includes(text[i])) i += 1;
  return i;
}

function skipString(text, i) {
  i += 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

function skipValue(text, i) {
  if (text[i] === '"') return skipString(text, i);
  if (text[i] === "{" || text[i] === "[") {
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') { i = skipString(text, i); continue; }
      if (c === "{" || c === "[") depth += 1;
      else if (c === "}" || c === "]") {
        depth -= 1;
        if (depth === 0) return i + 1;
      }
      i += 1;
    }
    return i;
  }
  while (i < text.length && !",}] \t\r\n".includes(text[i])) i += 1;
  return i;
}
