// The signature check panel: recompute HMAC-SHA256(secret, timestamp + body) in the browser
// (WebCrypto) and say which of the signatures the delivery carried it matches.

const TIMESTAMP = "x-simplyq-timestamp";
const SIGNATURE = "x-simplyq-signature";

function header(headers, name) {
  for (const [key, value] of Object.entries(headers || {})) {
    if (key.toLowerCase() === name) return value;
  }
  return null;
}

function base64(buffer) {
  let text = "";
  for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
  return btoa(text);
}

/** The base64 signature of `timestamp` + `body` (bytes) under `secret`. */
export async function sign(secret, timestamp, body) {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const prefix = encoder.encode(String(timestamp));
  const data = new Uint8Array(prefix.length + body.length);
  data.set(prefix);
  data.set(body, prefix.length);
  return base64(await crypto.subtle.sign("HMAC", key, data));
}

/**
 * Check a delivery's headers against a secret. `bodyText` is the body as sent.
 * Returns {timestamp, signatures: [{value, matches}], matched (index or null), problems}.
 */
export async function check(headers, bodyText, secret) {
  const problems = [];
  const timestamp = header(headers, TIMESTAMP);
  const raw = header(headers, SIGNATURE);
  if (timestamp == null) problems.push("no X-Simplyq-Timestamp header was sent");
  if (raw == null) problems.push("no X-Simplyq-Signature header was sent");
  if (!globalThis.crypto || !crypto.subtle) {
    problems.push("this browser gives no WebCrypto here (open the page on localhost)");
  }
  const body = new TextEncoder().encode(bodyText ?? "");
  const length = header(headers, "content-length");
  if (length != null && Number(length) !== body.length) {
    problems.push(`the body shown is ${body.length} bytes, ${length} were sent`);
  }
  const values = (raw || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (problems.some((p) => p.startsWith("no ") || p.includes("WebCrypto"))) {
    return { timestamp, signatures: values.map((value) => ({ value, matches: false })),
      matched: null, problems };
  }
  const expected = await sign(secret, timestamp.trim(), body);
  const signatures = values.map((value) => ({ value, matches: value === expected }));
  const index = signatures.findIndex((s) => s.matches);
  return { timestamp, signatures, matched: index < 0 ? null : index, expected, problems };
}
