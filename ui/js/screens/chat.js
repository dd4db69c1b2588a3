// Chat: sessions column (search, New chat, grouped by day) and the conversation with an agent.
// Replies stream from POST /api/chat/completions (Qorven form) and render as they arrive:
// markdown text, tool-call cards, recalled-memory chips. Stop aborts the fetch; the server cancels.

import { h, icon, replace, shortTime, fullTime, dayLabel, debounce } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items, qs } from "../api.js";
import { postStream } from "../sse.js";
import { subscribe } from "../live.js";
import { agents as loadAgents, agentLabel, defaultAgentId, defaultModel, prefs } from "../store.js";
import { errorBox, errorText, toast } from "../ui.js";
import { RunView, userBlock, contentText, parseMaybe } from "../chat-views.js";
import { attachControl } from "../attach.js";

export async function mount(container, { navigate }) {
  const state = {
    agents: [],
    agentId: "",
    sessions: [],
    sessionId: "",
    filter: "",
    run: null,          // {controller, view} while a reply streams
    unsubs: [],
  };

  // ---- skeleton ----
  const searchInput = h("input", { type: "search", placeholder: "Search sessions", "aria-label": "Search sessions", autocomplete: "off" });
  const newChatBtn = h("button", { type: "button", class: "primary", title: "Start a new conversation" }, icon(ICONS.plus, 16), "New chat");
  const sessionList = h("ul", { class: "list", "aria-label": "Sessions" });
  const sessionsCol = h("aside", { class: "sessions", "aria-label": "Sessions" },
    h("div", { class: "pane-tools" }, newChatBtn, searchInput),
    sessionList);

  const agentSelect = h("select", { id: "chat-agent" });
  const modelText = h("span", { class: "model" });
  const statusText = h("span", { class: "status", role: "status", "aria-live": "polite" });
  const head = h("header", { class: "conv-head" },
    h("label", { for: "chat-agent", class: "muted small" }, "Agent"), agentSelect, modelText, statusText);

  const messagesInner = h("div", { class: "messages-inner" });
  const messagesEl = h("div", { class: "messages", role: "log", "aria-label": "Conversation", "aria-live": "off" }, messagesInner);

  // Disabled until the agent and its sessions are loaded, so a message typed early is not lost.
  const textarea = h("textarea", { id: "chat-message", rows: 1, placeholder: "Message the agent…", "aria-label": "Message", disabled: true });
  const sendBtn = h("button", { type: "button", class: "primary", title: "Send (Enter)" }, icon(ICONS.send, 16), "Send");
  const stopBtn = h("button", { type: "button", class: "danger hidden", title: "Stop (Escape)" }, icon(ICONS.stop, 14), "Stop");
  const attach = attachControl({ ensureSession: (name) => ensureSession(name), toast });
  const composer = h("div", { class: "composer" }, attach.tray,
    h("div", { class: "composer-inner" }, attach.button, attach.input, textarea, sendBtn, stopBtn),
    h("div", { class: "hint" }, "Enter to send · Shift+Enter for a new line · Escape to stop"));

  const conv = h("section", { class: "conv" }, head, messagesEl, composer);
  container.append(h("div", { class: "chat" }, sessionsCol, conv));

  // ---- agents ----
  try {
    state.agents = await loadAgents();
  } catch (e) {
    replace(messagesInner, errorBox(e));
    return () => {};
  }
  if (!state.agents.length) {
    replace(messagesInner, h("div", { class: "welcome" }, h("h2", null, "No agents yet"),
      h("p", null, "Create an agent on the Agents screen to start chatting."),
      h("button", { type: "button", onclick: () => navigate("agents") }, "Open Agents")));
  }
  state.agentId = defaultAgentId(state.agents);
  replace(agentSelect, state.agents.map((a) => h("option", { value: a.id }, a.display_name || a.name)));
  agentSelect.value = state.agentId;

  const currentAgent = () => state.agents.find((a) => a.id === state.agentId) || null;
  const agentName = () => agentLabel(state.agents, state.agentId);

  let fallbackModel = "";
  function showModel() {
    const a = currentAgent();
    modelText.textContent = a ? (a.model ? `· ${a.model}` : `· ${fallbackModel || "default model"}`) : "";
    modelText.title = a && a.description ? a.description : "";
  }
  defaultModel().then((m) => { fallbackModel = m ? `${m} (default)` : ""; showModel(); });

  // ---- sessions ----
  function sessionTime(s) { return s.last_message_at || s.updated_at || s.created_at || ""; }
  function sessionTitle(s) {
    return s.title || s.localTitle || (s.channel && s.channel !== "web" ? `${s.channel} conversation` : "Untitled chat");
  }

  function renderSessions() {
    const q = state.filter.trim().toLowerCase();
    const list = state.sessions
      .filter((s) => s.status !== "archived")
      .filter((s) => !q || sessionTitle(s).toLowerCase().includes(q) || (s.peer || "").toLowerCase().includes(q))
      .sort((a, b) => sessionTime(b).localeCompare(sessionTime(a)));
    sessionList.replaceChildren();
    if (!list.length) {
      sessionList.append(h("li", { class: "empty small" }, q ? "No session matches." : "No conversations yet."));
      return;
    }
    let group = "";
    for (const s of list) {
      const label = dayLabel(sessionTime(s));
      if (label !== group) {
        group = label;
        sessionList.append(h("li", { class: "group", role: "presentation" }, label));
      }
      const btn = h("button", {
        type: "button", class: "list-item", "aria-current": s.id === state.sessionId ? "true" : "false",
        title: fullTime(sessionTime(s)),
      },
      h("span", { class: "title" }, sessionTitle(s)),
      h("span", { class: "sub" }, [shortTime(sessionTime(s)), s.message_count ? `${s.message_count} messages` : "", s.channel && s.channel !== "web" ? s.channel : ""].filter(Boolean).join(" · ")));
      btn.addEventListener("click", () => openSession(s.id));
      sessionList.append(h("li", null, btn));
    }
  }

  async function loadSessions() {
    try {
      state.sessions = items(await api.get(qs("sessions", { agent_id: state.agentId, limit: 100 })))
        .sort((a, b) => sessionTime(b).localeCompare(sessionTime(a)));
    } catch (e) {
      state.sessions = [];
      toast(errorText(e), "error");
    }
    renderSessions();
  }

  // ---- live updates: another client (a channel, the CLI, a second window) using this session ----
  let sessionUnsub = null;
  let agentUnsub = null;
  let liveView = null;      // a reply streaming elsewhere, rendered from message.delta events
  const ownIds = new Set(); // answers of our own runs: their trailing events must not trigger a reload
  const reloadQuietly = debounce(() => {
    if (!state.run && state.sessionId) loadMessages(state.sessionId, true);
  }, 250);
  function watchSession(id) {
    if (sessionUnsub) sessionUnsub();
    liveView = null;
    sessionUnsub = id ? subscribe(`session:${id}`, (ev) => {
      const d = ev.data || {};
      if (state.run || (d.id && ownIds.has(d.id)) || (d.message_id && ownIds.has(d.message_id))) return; // our own stream shows it
      if (ev.event === "message.delta") {
        if (!liveView) {
          liveView = new RunView(agentName(), new Date().toISOString());
          liveView.streaming(true);
          messagesInner.querySelector(".welcome")?.remove();
          messagesInner.append(liveView.el);
        }
        liveView.appendText(d.delta || "");
        statusText.textContent = `${agentName()} is replying…`;
        scrollToEnd();
      } else if (ev.event === "tool.started") {
        if (liveView) liveView.addToolCall(d.call_id, d.tool, d.arguments);
      } else if (ev.event === "tool.finished") {
        if (liveView) liveView.toolResult(d);
      } else if (ev.event === "message.completed" || (ev.event === "message.created" && d.role === "user")) {
        if (ev.event === "message.completed") liveView = null;
        reloadQuietly();
      }
    }) : null;
  }
  function watchAgent(id) {
    if (agentUnsub) agentUnsub();
    agentUnsub = id ? subscribe(`agent:${id}`, (ev) => {
      if (ev.event !== "agent.status" || state.run || !ev.data) return;
      const s = ev.data.status;
      statusText.textContent = s && s !== "idle" ? `${agentName()}: ${s}` : "";
    }) : null;
  }

  // ---- messages ----
  function showWelcome() {
    const a = currentAgent();
    replace(messagesInner, h("div", { class: "welcome" },
      h("h2", null, a ? `Chat with ${a.display_name || a.name}` : "Chat"),
      h("p", null, (a && a.description) || "Ask anything. Replies stream in as they are written.")));
  }

  async function loadMessages(id, quiet = false) {
    if (!quiet) replace(messagesInner, h("div", { class: "empty" }, "Loading…"));
    let list;
    try {
      list = items(await api.get(qs("messages", { session_id: id, limit: 200 })));
    } catch (e) {
      replace(messagesInner, errorBox(e));
      return;
    }
    if (id !== state.sessionId) return;
    const s = state.sessions.find((x) => x.id === id);
    const firstUser = list.find((m) => m.role === "user");
    if (s && !s.title && !s.localTitle && firstUser) {
      s.localTitle = contentText(firstUser.content).slice(0, 60).replace(/\s+/g, " "); // shown only, not saved
      renderSessions();
    }
    renderHistory(list);
    if (liveView) messagesInner.append(liveView.el);
    statusText.textContent = "";
    scrollToEnd(true);
  }

  function renderHistory(list) {
    messagesInner.replaceChildren();
    if (!list.length) { showWelcome(); return; }
    let run = null;
    const cards = new Map();
    for (const m of list) {
      if (m.role === "system") continue;
      if (m.role === "user") {
        run = null;
        messagesInner.append(userBlock(m.content, m.created_at));
      } else if (m.role === "assistant") {
        if (!run) {
          run = new RunView(agentLabel(state.agents, m.agent_id || state.agentId), m.created_at);
          messagesInner.append(run.el);
        }
        if (m.content) run.appendText(contentText(m.content), true);
        for (const call of m.tool_calls || []) {
          const fn = call.function || {};
          cards.set(call.id, run.addToolCall(call.id, fn.name || call.name, fn.arguments ?? call.arguments));
        }
        if (m.status === "failed") run.fail(m.error && typeof m.error === "object" ? m.error : { code: "failed", message: m.error || "The reply failed." });
        else if (m.status === "streaming") run.note("Still being written…");
        else if (m.status === "stopped") run.note("Stopped.");
        run.render();
      } else if (m.role === "tool") {
        const card = cards.get(m.tool_call_id);
        const parsed = parseMaybe(m.content);
        const result = parsed && typeof parsed === "object" && "ok" in parsed ? parsed : { ok: true, result: parsed };
        if (card) card.finish(result);
      }
    }
  }

  async function openSession(id) {
    if (state.run) stop();
    state.sessionId = id;
    prefs.set(`session.${state.agentId}`, id);
    renderSessions();
    watchSession(id);
    attach.show(id);
    await loadMessages(id);
    textarea.focus();
  }

  function newChat() {
    if (state.run) stop();
    state.sessionId = "";
    prefs.set(`session.${state.agentId}`, "");
    watchSession("");
    attach.show("");
    renderSessions();
    showWelcome();
    textarea.focus();
  }

  async function selectAgent(id) {
    if (state.run) stop();
    state.agentId = id;
    prefs.set("agent", id);
    watchAgent(id);
    showModel();
    await loadSessions();
    // Reopen the session last shown for this agent; "" means the user had started a new chat.
    const remembered = prefs.get(`session.${id}`, null);
    const pick = state.sessions.find((s) => s.id === remembered) ||
      (remembered === "" ? null : state.sessions.find((s) => s.status !== "archived"));
    if (pick) await openSession(pick.id);
    else newChat();
  }

  // ---- sending ----
  function setStreaming(on) {
    sendBtn.classList.toggle("hidden", on);
    stopBtn.classList.toggle("hidden", !on);
    sendBtn.disabled = on;
    stopBtn.disabled = !on;
    agentSelect.disabled = on;
  }

  async function ensureSession(text) {
    if (state.sessionId) return state.sessionId;
    // A new conversation: the sessions API keeps one canonical session per (agent, channel, peer),
    // so each "New chat" is its own peer within the web channel.
    const peer = `ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      const s = await api.post("sessions", { agent_id: state.agentId, channel: "web", peer, title: text.slice(0, 60).replace(/\s+/g, " ") });
      if (s && s.id) {
        state.sessions = [s, ...state.sessions.filter((x) => x.id !== s.id)];
        state.sessionId = s.id;
        prefs.set(`session.${state.agentId}`, s.id);
        watchSession(s.id);
        renderSessions();
        return s.id;
      }
    } catch (e) {
      if (e.status === 0 || e.status >= 500) throw e;
      // The server chooses the agent's canonical web session when none is given.
    }
    return "";
  }

  async function send() {
    const text = textarea.value.trim();
    if (!text || state.run || !state.agentId) return;
    textarea.value = "";
    autosize();
    if (!state.sessionId) messagesInner.replaceChildren();
    messagesInner.querySelector(".welcome")?.remove();
    messagesInner.append(userBlock(text, new Date().toISOString()));
    const view = new RunView(agentName(), new Date().toISOString());
    view.streaming(true);
    messagesInner.append(view.el);
    scrollToEnd(true);

    const controller = new AbortController();
    state.run = { controller, view };
    setStreaming(true);
    statusText.textContent = `${agentName()} is thinking…`;
    let finished = false;
    try {
      const sessionId = await ensureSession(text);
      const body = { agent_id: state.agentId, message: text, stream: true };
      if (sessionId) body.session_id = sessionId;
      for await (const ev of postStream("/api/chat/completions", body, controller.signal)) {
        if (handleEvent(ev, view)) { finished = true; break; }
        scrollToEnd();
      }
      if (!finished && !view.failed) view.note("The stream ended early.");
    } catch (e) {
      if (e.name === "AbortError") view.note("Stopped.");
      else view.fail(e);
    } finally {
      view.streaming(false);
      view.render();
      state.run = null;
      setStreaming(false);
      statusText.textContent = "";
      touchSession();
      scrollToEnd();
      textarea.focus();
    }
  }

  /** Apply one stream event to the view; true when the stream is complete. */
  function handleEvent(ev, view) {
    const d = ev.data;
    switch (ev.event) {
      case "session":
        if (d && d.message_id) ownIds.add(d.message_id);
        if (d && d.session_id && d.session_id !== state.sessionId) {
          state.sessionId = d.session_id;
          prefs.set(`session.${state.agentId}`, d.session_id);
          watchSession(d.session_id);
          if (!state.sessions.some((s) => s.id === d.session_id)) loadSessions();
        }
        return false;
      case "tool_call":
        statusText.textContent = `${agentName()} is using ${d.tool}…`;
        view.addToolCall(d.call_id, d.tool, d.arguments);
        return false;
      case "tool_result":
        statusText.textContent = `${agentName()} is thinking…`;
        view.toolResult(d);
        return false;
      case "memory":
        view.addMemories((d && d.recalled) || []);
        return false;
      case "json": {
        // Non-streamed answer (a server that ignored stream:true).
        const msg = d && d.choices && d.choices[0] && d.choices[0].message;
        if (d && d.error) view.fail(d.error);
        else if (msg) view.appendText(contentText(msg.content));
        return true;
      }
      default:
        if (d === "[DONE]") return true;
        if (d && typeof d === "object") {
          if (d.error) { view.fail(d.error); return true; }
          const choice = d.choices && d.choices[0];
          const delta = choice && choice.delta;
          if (delta && typeof delta.content === "string" && delta.content) {
            statusText.textContent = `${agentName()} is replying…`;
            view.appendText(delta.content);
          }
        }
        return false;
    }
  }

  function stop() {
    if (state.run) state.run.controller.abort();
  }

  function touchSession() {
    const s = state.sessions.find((x) => x.id === state.sessionId);
    if (s) {
      s.last_message_at = new Date().toISOString();
      s.message_count = (s.message_count || 0) + 2;
    }
    renderSessions();
  }

  function scrollToEnd(force = false) {
    const nearEnd = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 120;
    if (force || nearEnd) messagesEl.scrollTop = messagesEl.scrollHeight;
  }

  function autosize() {
    textarea.style.height = "auto";
    textarea.style.height = `${Math.min(textarea.scrollHeight + 2, 220)}px`;
  }

  // ---- events ----
  searchInput.addEventListener("input", () => { state.filter = searchInput.value; renderSessions(); });
  newChatBtn.addEventListener("click", newChat);
  agentSelect.addEventListener("change", () => selectAgent(agentSelect.value));
  sendBtn.addEventListener("click", send);
  stopBtn.addEventListener("click", stop);
  textarea.addEventListener("input", autosize);
  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  });
  const onKey = (e) => {
    if (e.key === "Escape" && state.run) { e.preventDefault(); stop(); }
  };
  window.addEventListener("keydown", onKey);

  if (state.agentId) {
    showModel();
    await selectAgent(state.agentId);
    textarea.disabled = false;
    textarea.focus();
  }

  return () => {
    stop();
    attach.dispose();
    window.removeEventListener("keydown", onKey);
    if (sessionUnsub) sessionUnsub();
    if (agentUnsub) agentUnsub();
    state.unsubs.forEach((u) => u());
  };
}
