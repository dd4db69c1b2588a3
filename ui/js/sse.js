// Server-sent events over fetch: EventSource cannot POST or send an Authorization header, so the
// chat and room streams are read from a ReadableStream and parsed here.

import { ApiError, authHeaders } from "./api.js";

/**
 * POST a JSON body and yield {event, data} for each SSE event. `data` is the parsed JSON, or the
 * raw string ("[DONE]"). Comments (": ping") are skipped. Throws ApiError for a non-2xx answer.
 */
export async function* postStream(path, body, signal) {
  let res;
  try {
    res = await fetch(path, {
      method: "POST",
      headers: authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, null, "The server did not answer. Is Qorven still running?");
  }
  if (!res.ok) {
    let data = null;
    const text = await res.text();
    try { data = JSON.parse(text); } catch { data = null; }
    throw new ApiError(res.status, data, text.slice(0, 200));
  }
  const type = res.headers.get("Content-Type") || "";
  if (!type.includes("text/event-stream")) {
    // A server may answer a non-streamed JSON body; hand it over as one event.
    const text = await res.text();
    let data = text;
    try { data = JSON.parse(text); } catch { /* keep text */ }
    yield { event: "json", data };
    return;
  }
  yield* parseEvents(res.body, signal);
}

/** Parse an SSE byte stream into events (exported for the tests of the parser). */
export async function* parseEvents(stream, signal) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let m;
      while ((m = /\r\n\r\n|\n\n|\r\r/.exec(buffer))) {
        const raw = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        const ev = parseBlock(raw);
        if (ev) yield ev;
      }
    }
    buffer += decoder.decode();
    const ev = parseBlock(buffer);
    if (ev) yield ev;
  } finally {
    if (signal && signal.aborted) reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function parseBlock(raw) {
  if (!raw.trim()) return null;
  let event = "message";
  const data = [];
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "event") event = value;
    else if (name === "data") data.push(value);
  }
  if (!data.length) return null;
  const text = data.join("\n");
  let parsed = text;
  if (text !== "[DONE]") {
    try { parsed = JSON.parse(text); } catch { parsed = text; }
  }
  return { event, data: parsed };
}
