// Chat: the conversations column (chat-list.js) and the conversation with an agent.
// Replies stream from POST /api/chat/completions (Qorven form) and render as they arrive:
// markdown text, tool-call cards, recalled-memory chips. Stop aborts the fetch; the server cancels.
// Each message has its actions (copy, regenerate, edit and resend, delete, remember); the header
// has the "Agent" and "Model" pickers (the model is this conversation's, "Agent default" first).

import { h, icon, replace, debounce, copyText } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items, qs } from "../api.js";
import { postStream } from "../sse.js";
import { subscribe } from "../live.js";
import { agents as loadAgents, agentLabel, defaultAgentId, defaultModel, prefs } from "../store.js";
import { confirmAction, errorBox, errorText, toast } from "../ui.js";
import { RunView, userBlock, contentText, parseMaybe, actionBar, setActions, showStoredRecall } from "../chat-views.js";
import { ConversationList } from "../chat-list.js";
import { attachControl } from "../attach.js";

export async function mount(container, { navigate }) {
  // Declared first: the conversations list and the composer can call back (open a session, watch it)
  // while the agents are still loading below.
  let sessionUnsub = null;
  let agentUnsub = null;
  let viewEpoch = 0;        // bumped when a run starts here: a load begun before it is out of date
  let liveView = null;      // a reply streaming elsewhere, rendered from message.delta events
  const ownIds = new Set(); // answers of our own runs: their trailing events must not trigger a reload
  const state = {
    agents: [],
    agentId: "",
    sessionId: "",
    models: [],         // provider model ids offered by /v1/models
    pendingModel: "",   // picked before the conversation exists: saved on it once created
    run: null,          // {controller, view} while a reply streams
    entries: [],        // what the conversation shows: {kind: "user", el, message} | {kind: "run", view}
  };

  // ---- skeleton ----
  const list = new ConversationList({
    agents: () => state.agents,
    agentId: () => state.agentId,
    currentId: () => state.sessionId,
    open: (s) => { foldList(); return openSession(s); },
    newChat: () => { foldList(); newChat(); },
    removed: (id) => { if (id === state.sessionId) newChat(); },
  });

  const agentSelect = h("select", { id: "chat-agent" });
  const modelSelect = h("select", { id: "chat-model", title: "The model this conversation uses" });
  const modelText = h("span", { class: "model" });
  // With the tiny starter model in use, say so and point to a bigger one (UI.md "First run").
  // Its name stays whole; the visible text shortens with the window (styles.css hides parts visually,
  // not from the name) so the header is one row. No aria-label: "Model" must name only the picker.
  const biggerModel = h("button", { type: "button", class: "ghost small starter-hint hidden",
    title: "The starter model is tiny: quick and offline, but simple and often wrong. Get a bigger one." },
  icon(ICONS.models, 14), h("span", null, h("span", { class: "hint-short" }, "Tiny starter model"),
    h("span", { class: "hint-long" }, ": get a bigger one")));
  biggerModel.addEventListener("click", () => navigate("models"));
  const statusText = h("span", { class: "status", role: "status", "aria-live": "polite" });
  // Below 1000 px the conversations column folds away (styles.css); this button brings it back.
  const listToggle = h("button", { type: "button", class: "ghost small only-narrow", "aria-expanded": "false",
    "aria-controls": "chat-sessions" }, "Conversations");
  const head = h("header", { class: "conv-head" }, listToggle,
    h("label", { for: "chat-agent", class: "muted small conv-label" }, "Agent"), agentSelect,
    h("label", { for: "chat-model", class: "muted small conv-label" }, "Model"), modelSelect, modelText, biggerModel, statusText);

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
  const chatEl = h("div", { class: "chat" }, list.el, conv);
  container.append(chatEl);
  list.el.id = "chat-sessions";
  function foldList(open = false) {
    chatEl.classList.toggle("sessions-open", open);
    listToggle.setAttribute("aria-expanded", String(open));
  }
  listToggle.addEventListener("click", () => foldList(!chatEl.classList.contains("sessions-open")));
  chatEl.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && chatEl.classList.contains("sessions-open")) { foldList(); listToggle.focus(); }
  });

  // Before the agents load: "New chat" can be pressed while they do, and it reads these.
  let fallbackModel = "";
  let tenantDefault = "";
  let starters = new Set();
  const currentAgent = () => state.agents.find((a) => a.id === state.agentId) || null;
  const agentName = () => agentLabel(state.agents, state.agentId);
  const currentSession = () => (state.sessionId ? list.find(state.sessionId) : null);

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


  // ---- model picker ----
  function showModel() {
    const a = currentAgent();
    const chosen = modelSelect.value;
    // What "Agent default" means right now: the agent's own model, else the tenant's default.
    const agentModel = a ? (a.model || fallbackModel) : "";
    modelText.textContent = chosen ? "" : (agentModel ? `· ${agentModel}` : "· no model set up");
    modelText.title = modelText.textContent.slice(2);
    // In a narrow window the model text folds away: the picker's tooltip still says what "Agent default" is.
    modelSelect.title = chosen ? "The model this conversation uses" : `Agent default: ${agentModel || "no model set up"}`;
    const inUse = chosen || (a && a.model) || tenantDefault;
    biggerModel.classList.toggle("hidden", !starters.has(inUse));
  }
  function fillModels(current) {
    const ids = [...state.models];
    // An override no longer offered (its provider removed, or unselected) still shows, marked, once the
    // offered models are known; the answer's error then offers "Use the agent default".
    const gone = current && !ids.includes(current) && state.modelsLoaded ? current : "";
    if (current && !ids.includes(current)) ids.push(current);
    replace(modelSelect, h("option", { value: "" }, "Agent default"),
      ids.map((id) => h("option", { value: id }, id === gone ? `${id} (not available)` : id)));
    modelSelect.value = current || "";
    showModel();
  }
  defaultModel().then((m) => { tenantDefault = m || ""; fallbackModel = m ? `${m} (default)` : ""; showModel(); });
  api.get("models").then((res) => {
    const models = items(res).filter((m) => !m.qorven || m.qorven.kind === "model");
    state.models = models.map((m) => m.id);
    state.modelsLoaded = true;
    starters = new Set(models.filter((m) => m.qorven && m.qorven.starter).map((m) => m.id));
    fillModels(modelSelect.value || (currentSession() || {}).model || "");
  }).catch(() => fillModels(modelSelect.value));

  async function pickModel() {
    const model = modelSelect.value || null;
    showModel();
    if (!state.sessionId) { state.pendingModel = model || ""; return; }
    try {
      list.upsert(await api.patch(`sessions/${encodeURIComponent(state.sessionId)}`, { model }));
      toast(model ? `This conversation now uses ${model}.` : "This conversation uses the agent's model again.");
    } catch (e) {
      toast(errorText(e), "error");
      fillModels((currentSession() || {}).model || "");
    }
  }

  // ---- live updates: another client (a channel, the CLI, a second window) using this session ----
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
      // A failed run says so on its answer; the header only tells what is happening now.
      statusText.textContent = s && s !== "idle" && s !== "error" ? `${agentName()}: ${s}` : "";
    }) : null;
  }

  // ---- messages ----
  function showWelcome() {
    const a = currentAgent();
    state.entries = [];
    replace(messagesInner, h("div", { class: "welcome" },
      h("h2", null, a ? `Chat with ${a.display_name || a.name}` : "Chat"),
      h("p", null, (a && a.description) || "Ask anything. Replies stream in as they are written.")));
  }

  async function fetchMessages(id) {
    return items(await api.get(qs("messages", { session_id: id, limit: 200 })));
  }

  async function loadMessages(id, quiet = false) {
    const epoch = viewEpoch;
    if (!quiet) replace(messagesInner, h("div", { class: "empty" }, "Loading…"));
    let stored;
    try {
      stored = await fetchMessages(id);
    } catch (e) {
      if (epoch === viewEpoch) replace(messagesInner, errorBox(e));
      return;
    }
    // another conversation, or the person sent something meanwhile: what was fetched is out of date
    if (id !== state.sessionId || epoch !== viewEpoch) return;
    const s = list.find(id);
    const firstUser = stored.find((m) => m.role === "user");
    if (s && !s.title && !s.localTitle && firstUser) {
      s.localTitle = contentText(firstUser.content).slice(0, 60).replace(/\s+/g, " "); // shown only, not saved
      list.render();
    }
    renderHistory(stored);
    if (liveView) messagesInner.append(liveView.el);
    statusText.textContent = "";
    scrollToEnd(true);
  }

  function renderHistory(stored) {
    messagesInner.replaceChildren();
    state.entries = [];
    if (!stored.length) { showWelcome(); return; }
    let run = null;
    let shownLive = false; // the run being written now, which the live view (liveView) already shows
    const cards = new Map();
    for (const m of stored) {
      if (m.role === "system") continue;
      if (m.role === "user") {
        run = null;
        shownLive = false;
        const el = userBlock(m.content, m.created_at);
        messagesInner.append(el);
        state.entries.push({ kind: "user", el, message: m });
      } else if (shownLive) {
        continue;
      } else if (m.role === "assistant") {
        // An answer still being written (its row is stored "streaming" when its run starts): the live
        // view shows it if there is one; else this run becomes the live view, and deltas go on in it.
        if (m.status === "streaming" && liveView && !run) { shownLive = true; continue; }
        if (!run) {
          run = new RunView(agentLabel(state.agents, m.agent_id || state.agentId), m.created_at);
          messagesInner.append(run.el);
          state.entries.push({ kind: "run", view: run });
        }
        run.messageIds.push(m.id);
        if (m.model) run.setModel(m.model);
        showStoredRecall(run, m);
        if (m.content) run.appendText(contentText(m.content), true);
        for (const call of m.tool_calls || []) {
          const fn = call.function || {};
          cards.set(call.id, run.addToolCall(call.id, fn.name || call.name, fn.arguments ?? call.arguments));
        }
        if (m.status === "failed") run.fail(m.error && typeof m.error === "object" ? m.error : { code: "failed", message: m.error || "The reply failed." });
        else if (m.status === "streaming" && !liveView) { liveView = run; run.streaming(true); }
        else if (m.status === "stopped") run.note("Stopped.");
        run.render();
      } else if (m.role === "tool") {
        const card = cards.get(m.tool_call_id);
        const parsed = parseMaybe(m.content);
        const result = parsed && typeof parsed === "object" && "ok" in parsed ? parsed : { ok: true, result: parsed };
        if (card) card.finish(result);
      }
    }
    decorate();
  }

  /** Give every message its actions; "Regenerate" only on the last answer. */
  function decorate() {
    const lastRun = [...state.entries].reverse().find((e) => e.kind === "run");
    const hasUser = state.entries.some((e) => e.kind === "user");
    for (const entry of state.entries) {
      if (entry.kind === "user" && entry.message) {
        const text = () => contentText(entry.message.content);
        const unanswered = entry === state.entries[state.entries.length - 1]; // its answer was deleted
        setActions(entry.el, actionBar([
          { label: "Copy message", icon: "copy", run: () => copy(text()) },
          unanswered ? { label: "Regenerate", icon: "regenerate", run: () => answerAgain() } : null,
          { label: "Edit message", icon: "edit", run: (b) => startEdit(entry, b) },
          { label: "Remember this", icon: "remember", run: (b) => remember(text(), b) },
          { label: "Delete message", icon: "trash", run: () => deleteMessage(entry.message.id, "Delete this message?") },
        ]));
      }
      if (entry.kind === "run") entry.view.setErrorActions(entry === lastRun ? errorActions(entry) : null);
      if (entry.kind === "run" && entry.view.messageIds.length) {
        const view = entry.view;
        setActions(view.el, actionBar([
          { label: "Copy message", icon: "copy", run: () => copy(view.plainText()) },
          entry === lastRun && hasUser ? { label: "Regenerate", icon: "regenerate", run: () => regenerate(entry) } : null,
          { label: "Remember this", icon: "remember", run: (b) => remember(view.plainText(), b) },
          { label: "Delete message", icon: "trash", run: () => deleteMessage(view.messageIds[view.messageIds.length - 1], "Delete this answer and its tool calls?") },
        ]));
      }
    }
  }

  /** What fixes a failed answer: "Set up a model" opens the Models screen; "Retry" runs the turn again;
   *  when this conversation's own model is no longer offered, "Use the agent default" drops it and retries. */
  function errorActions(entry) {
    const actions = { setup: () => navigate("models"), retry: () => retry(entry) };
    const chosen = (currentSession() || {}).model || "";
    if (chosen && state.modelsLoaded && !state.models.includes(chosen)) {
      actions.gone = chosen;
      actions.useDefault = async () => {
        modelSelect.value = "";
        await pickModel();
        fillModels((currentSession() || {}).model || "");
        if (!modelSelect.value) retry(entry);
      };
    }
    return actions;
  }

  function retry(entry) {
    if (state.run) return;
    const at = state.entries.indexOf(entry);
    const asked = state.entries[at - 1];
    truncateFrom(entry);
    if (asked && asked.kind === "user" && !asked.message) runStream({ message: asked.text }, asked.text); // never stored
    else runStream({ regenerate: true }, "");
  }

  async function copy(text) {
    toast(await copyText(text) ? "Copied." : "Could not copy: the browser refused.", "info");
  }

  async function remember(text, button) {
    if (!text.trim()) { toast("There is no text to remember.", "error"); return; }
    button.disabled = true;
    try {
      const r = await api.post("memory/save", { scope: "agent", agent_id: state.agentId, kind: "note", content: text.slice(0, 8000) });
      toast(r && r.deduplicated ? `${agentName()} already remembered this; updated it.` : `${agentName()} will remember this.`);
    } catch (e) {
      toast(e.status === 403 ? "Only an admin can save memories directly." : errorText(e), "error");
    } finally {
      button.disabled = false;
    }
  }

  async function deleteMessage(id, question) {
    if (state.run || !confirmAction(question)) return;
    try {
      await api.del(`messages/${encodeURIComponent(id)}`);
    } catch (e) {
      toast(errorText(e), "error");
      return;
    }
    await loadMessages(state.sessionId, true);
    await list.load();
    textarea.focus(); // the deleted message's button is gone: the composer is where to go on
  }

  /** Drop an entry and everything after it from the screen (they are about to be answered again). */
  function truncateFrom(entry) {
    const at = state.entries.indexOf(entry);
    for (const e of state.entries.slice(at)) (e.el || e.view.el).remove();
    state.entries = state.entries.slice(0, at);
  }

  function regenerate(entry) {
    if (state.run) return;
    truncateFrom(entry);
    runStream({ regenerate: true }, "");
  }

  /** Answer the last question again when its answer was deleted (the server answers the last user message). */
  function answerAgain() {
    if (!state.run) runStream({ regenerate: true }, "");
  }

  function startEdit(entry, button) {
    if (state.run || entry.editing) return;
    entry.editing = true;
    const body = entry.el.querySelector(".msg-body");
    const box = h("textarea", { class: "edit-box", "aria-label": "Edited text", rows: 3 });
    box.value = contentText(entry.message.content);
    const save = h("button", { type: "button", class: "primary" }, "Save and send");
    const cancel = h("button", { type: "button" }, "Cancel");
    const editor = h("div", { class: "msg-edit" }, box, h("div", { class: "row" }, save, cancel));
    body.replaceWith(editor);
    // Cancelling puts focus back on the "Edit message" button it came from (shown on focus).
    const close = () => { entry.editing = false; editor.replaceWith(body); if (button && button.isConnected) button.focus(); };
    cancel.addEventListener("click", close);
    save.addEventListener("click", () => {
      const text = box.value.trim();
      if (!text || state.run) return;
      entry.editing = false;
      body.textContent = text;
      editor.replaceWith(body);
      const next = state.entries[state.entries.indexOf(entry) + 1];
      if (next) truncateFrom(next);
      entry.message = { ...entry.message, content: text };
      runStream({ edit_message_id: entry.message.id, message: text }, text);
    });
    box.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); }
      else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); save.click(); }
    });
    box.focus();
  }

  async function openSession(s) {
    if (state.run) stop();
    if (s.agent_id && s.agent_id !== state.agentId && state.agents.some((a) => a.id === s.agent_id)) {
      setAgent(s.agent_id); // a conversation of another agent, from the "All agents" list
    }
    state.sessionId = s.id;
    state.pendingModel = "";
    prefs.set(`session.${state.agentId}`, s.id);
    fillModels(s.model || "");
    list.render();
    watchSession(s.id);
    attach.show(s.id);
    await loadMessages(s.id);
    textarea.focus();
  }

  function newChat() {
    if (state.run) stop();
    if (!state.agentId) state.wantNewChat = true; // pressed while the agents load: honoured once they have
    state.sessionId = "";
    state.pendingModel = "";
    prefs.set(`session.${state.agentId}`, "");
    watchSession("");
    fillModels("");
    attach.show("");
    list.render();
    showWelcome();
    textarea.focus();
  }

  function setAgent(id) {
    state.agentId = id;
    agentSelect.value = id;
    prefs.set("agent", id);
    watchAgent(id);
    showModel();
  }

  async function selectAgent(id) {
    if (state.run) stop();
    setAgent(id);
    await list.load();
    // Reopen the session last shown for this agent; "" means the user had started a new chat.
    const remembered = state.wantNewChat ? "" : prefs.get(`session.${id}`, null);
    state.wantNewChat = false;
    const own = list.sessions.filter((s) => s.agent_id === id);
    const pick = own.find((s) => s.id === remembered) ||
      (remembered === "" ? null : own.find((s) => s.status !== "archived"));
    if (pick) await openSession(pick);
    else newChat();
  }

  // ---- sending ----
  function setStreaming(on) {
    sendBtn.classList.toggle("hidden", on);
    stopBtn.classList.toggle("hidden", !on);
    sendBtn.disabled = on;
    stopBtn.disabled = !on;
    agentSelect.disabled = on;
    modelSelect.disabled = on;
  }

  async function ensureSession(text) {
    if (state.sessionId) return state.sessionId;
    // A new conversation: the sessions API keeps one canonical session per (agent, channel, peer),
    // so each "New chat" is its own peer within the web channel.
    const peer = `ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      let s = await api.post("sessions", { agent_id: state.agentId, channel: "web", peer, title: text.slice(0, 60).replace(/\s+/g, " ") });
      if (s && s.id) {
        if (state.pendingModel) s = await api.patch(`sessions/${encodeURIComponent(s.id)}`, { model: state.pendingModel });
        state.pendingModel = "";
        list.upsert(s);
        state.sessionId = s.id;
        prefs.set(`session.${state.agentId}`, s.id);
        watchSession(s.id);
        list.render();
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
    if (!state.sessionId) { messagesInner.replaceChildren(); state.entries = []; }
    messagesInner.querySelector(".welcome")?.remove();
    messagesInner.querySelector(":scope > .empty")?.remove(); // "Loading…": that load gives way to this run
    const el = userBlock(text, new Date().toISOString());
    messagesInner.append(el);
    state.entries.push({ kind: "user", el, message: null, text });
    await runStream({ message: text }, text);
  }

  /** Stream one run of the agent into a new answer view: a new message, a regenerate or an edit. */
  async function runStream(request, text) {
    viewEpoch += 1;  // a conversation still loading must not replace this view when it arrives
    const view = new RunView(agentName(), new Date().toISOString());
    view.streaming(true);
    messagesInner.append(view.el);
    const entry = { kind: "run", view };
    view.errorActions = errorActions(entry);
    state.entries.push(entry);
    scrollToEnd(true);

    const controller = new AbortController();
    state.run = { controller, view, shown: null };
    const run = state.run;
    setStreaming(true);
    statusText.textContent = `${agentName()} is thinking…`;
    let finished = false;
    let stopped = false;
    try {
      const sessionId = await ensureSession(text);
      run.sessionId = sessionId;
      const body = { agent_id: state.agentId, stream: true, ...request };
      if (sessionId) body.session_id = sessionId;
      for await (const ev of postStream("/api/chat/completions", body, controller.signal)) {
        if (ev.event === "session" && ev.data && ev.data.session_id) run.sessionId = ev.data.session_id;
        if (handleEvent(ev, view)) { finished = true; break; }
        scrollToEnd();
      }
      if (!finished && !view.failed) view.note("The stream ended early.");
    } catch (e) {
      if (e.name === "AbortError") { stopped = true; view.note("Stopped."); }
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
    const runSession = run.sessionId || state.sessionId;
    if (runSession) await afterRun(stopped, run.shown, runSession);
  }

  /** Learn the stored ids of the turn just shown, so its actions work. After a stop the run streams on
   *  for a moment before the server learns of it, so the stored answer may run past what was on screen:
   *  cut it back to what the reader saw (``shown``), then show the stored turn. */
  async function afterRun(stopped, shown, id = state.sessionId) {
    let stored = [];
    // A stopped answer is stored once the server notices the stop: give it a moment (bounded).
    for (let tries = 0; tries < (stopped ? 20 : 1); tries++) {
      if (tries) await new Promise((r) => setTimeout(r, 250));
      try {
        stored = await fetchMessages(id);
      } catch {
        return; // the turn stays on screen without its actions
      }
      const last = stored[stored.length - 1];
      if (last && last.role === "assistant" && last.status !== "streaming") break;
    }
    const last = stored[stored.length - 1];
    if (stopped) {
      // Also when the stop came from opening another conversation: the stopped one keeps what was seen.
      if (last && last.role === "assistant" && last.status === "stopped" && shown !== null
          && typeof last.content === "string" && last.content !== shown && last.content.startsWith(shown)) {
        try {
          stored[stored.length - 1] = await api.patch(`messages/${encodeURIComponent(last.id)}`, { content: shown });
        } catch (e) {
          toast(errorText(e), "error");
        }
      }
      if (id === state.sessionId && !state.run && last && last.role === "assistant") {
        renderHistory(stored);
        scrollToEnd(true);
      }
    }
    if (id !== state.sessionId || state.run) return;
    api.get(`sessions/${encodeURIComponent(id)}`).then((s) => list.upsert(s)).catch(() => {}); // true counts
    if (stopped) return;
    const lastUser = stored.map((m) => m.role).lastIndexOf("user");
    const userEntry = [...state.entries].reverse().find((e) => e.kind === "user");
    const runEntry = state.entries[state.entries.length - 1];
    const asked = stored[lastUser];
    // The stored turn is ours only if its question is the one on screen (a run that could not start,
    // e.g. with no model set up, stored nothing).
    const ours = asked && userEntry && (userEntry.message ? userEntry.message.id === asked.id
      : contentText(asked.content) === userEntry.text);
    if (ours) {
      userEntry.message = asked;
      if (runEntry && runEntry.kind === "run") {
        const answers = stored.slice(lastUser + 1).filter((m) => m.role === "assistant");
        runEntry.view.messageIds = answers.map((m) => m.id);
        const model = answers.map((m) => m.model).filter(Boolean).pop();
        if (model) runEntry.view.setModel(model);
      }
    }
    decorate();
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
          if (!list.find(d.session_id)) list.load();
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
    if (!state.run) return;
    state.run.shown = state.run.view.freeze();
    state.run.controller.abort();
  }

  function touchSession() {
    const s = currentSession();
    if (s) {
      s.last_message_at = new Date().toISOString();
      s.message_count = (s.message_count || 0) + 2;
    }
    list.render();
  }

  // Follow the end of the conversation while the reader is there: a reply that grows (even by one
  // long chunk, rendered a frame later) stays in view; scrolling up to read stops the following.
  let follow = true;
  const nearEnd = () => messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 120;
  messagesEl.addEventListener("scroll", () => { follow = nearEnd(); });
  const grows = new ResizeObserver(() => { if (follow) messagesEl.scrollTop = messagesEl.scrollHeight; });
  grows.observe(messagesInner);
  function scrollToEnd(force = false) {
    if (force) follow = true;
    if (follow) messagesEl.scrollTop = messagesEl.scrollHeight;
  }

  function autosize() {
    textarea.style.height = "auto";
    textarea.style.height = `${Math.min(textarea.scrollHeight + 2, 220)}px`;
  }

  // ---- events ----
  agentSelect.addEventListener("change", () => selectAgent(agentSelect.value));
  modelSelect.addEventListener("change", pickModel);
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

  fillModels("");
  if (state.agentId) {
    showModel();
    await selectAgent(state.agentId);
    textarea.disabled = false;
    textarea.focus();
  }

  return () => {
    stop();
    grows.disconnect();
    attach.dispose();
    window.removeEventListener("keydown", onKey);
    if (sessionUnsub) sessionUnsub();
    if (agentUnsub) agentUnsub();
  };
}
