// One WebSocket to /api/ws for live events, shared by every screen. Screens subscribe to topics
// ("session:<id>", "room:<id>", "activity") and get {topic, event, data} callbacks. The socket
// reconnects with capped, jittered backoff and re-subscribes; the UI never polls. The handshake is
// authenticated by the qorven_session cookie (same origin); a token held in memory goes in the
// subprotocol pair instead.

import { getToken } from "./api.js";

const handlers = new Map();     // topic -> Set(fn)
const statusListeners = new Set();
let socket = null;
let attempt = 0;
let reconnectTimer = 0;
let stopped = false;
let state = "offline";

export function liveState() { return state; }

export function onLiveState(fn) {
  statusListeners.add(fn);
  fn(state);
  return () => statusListeners.delete(fn);
}

function setState(s) {
  state = s;
  statusListeners.forEach((fn) => fn(s));
}

/** Open the socket (idempotent). */
export function connect() {
  stopped = false;
  if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
  const token = getToken();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  setState("connecting");
  let ws;
  try {
    ws = new WebSocket(`${scheme}://${location.host}/api/ws`, token ? ["qorven.v1", `token.${token}`] : ["qorven.v1"]);
  } catch {
    scheduleReconnect();
    return;
  }
  socket = ws;
  ws.addEventListener("open", () => {
    attempt = 0;
    setState("live");
    const topics = [...handlers.keys()];
    if (topics.length) send({ type: "subscribe", topics });
  });
  ws.addEventListener("message", (msg) => {
    let ev;
    try { ev = JSON.parse(msg.data); } catch { return; }
    if (ev.type !== "event") return;
    const fns = handlers.get(ev.topic);
    if (fns) fns.forEach((fn) => { try { fn(ev); } catch (e) { console.error(e); } });
  });
  ws.addEventListener("close", () => {
    if (socket === ws) socket = null;
    setState("offline");
    if (!stopped) scheduleReconnect();
  });
  ws.addEventListener("error", () => { /* close follows */ });
}

function scheduleReconnect() {
  clearTimeout(reconnectTimer);
  const base = Math.min(15000, 500 * 2 ** attempt);
  attempt = Math.min(attempt + 1, 8);
  reconnectTimer = setTimeout(connect, base / 2 + Math.random() * base / 2);
}

/** Close for good (signed out). */
export function disconnect() {
  stopped = true;
  clearTimeout(reconnectTimer);
  if (socket) socket.close(1000);
  socket = null;
}

function send(msg) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

/** Subscribe fn to topic; returns an unsubscribe function. */
export function subscribe(topic, fn) {
  let set = handlers.get(topic);
  if (!set) {
    set = new Set();
    handlers.set(topic, set);
    send({ type: "subscribe", topics: [topic] });
  }
  set.add(fn);
  return () => {
    const s = handlers.get(topic);
    if (!s) return;
    s.delete(fn);
    if (!s.size) {
      handlers.delete(topic);
      send({ type: "unsubscribe", topics: [topic] });
    }
  };
}
