// Building the page from data: every value becomes a text node or an attribute value, never
// markup (payloads, headers and uids are whatever a sender or a receiver chose).

/** `el("td", {class: "x", text: value, onclick: fn}, child, "text", ...)`. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c != null && c !== false));
  return node;
}

/** A two-column table of a headers object (or a note when there are none). */
export function headersTable(headers) {
  const entries = Object.entries(headers || {});
  if (!entries.length) return el("p", { class: "muted", text: "(none)" });
  return el("table", { class: "kv" },
    el("tbody", {}, entries.map(([name, value]) =>
      el("tr", {}, el("th", { text: name }), el("td", { text: value })))));
}

/** `2026-01-02 03:04:05` from RFC 3339 text (the emulator's clock is UTC). */
export function when(value) {
  if (!value) return "—";
  return String(value).replace("T", " ").replace("+00:00", "").replace("Z", "");
}

export const STATUS = { "0": "success", "1": "pending", "2": "sending", "3": "fail" };

/** `12-02 15:04:34`: the short form, for tables. */
export function short(value) {
  const text = when(value);
  return text.length === 19 ? text.slice(5) : text;
}
