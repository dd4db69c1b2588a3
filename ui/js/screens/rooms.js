// Rooms: several agents in one conversation. Create a room (members, chair, mode), post a message
// and watch the members reply live, then decide (chair or vote) and read the decision with votes.

import { h, icon, replace, field, select, checkbox, shortTime, fullTime } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items, qs } from "../api.js";
import { postStream } from "../sse.js";
import { renderMarkdown } from "../markdown.js";
import { subscribe } from "../live.js";
import { agents as loadAgents, agentLabel } from "../store.js";
import { errorBox, errorText, paneHead } from "../ui.js";

export async function mount(container, { toast }) {
  const listEl = h("ul", { class: "list", "aria-label": "Rooms" });
  const detail = h("div", { class: "pane-detail" });
  const newBtn = h("button", { type: "button", class: "primary small" }, icon(ICONS.plus, 14), "New room");
  container.append(h("div", { class: "split" },
    h("aside", { class: "pane-list" }, paneHead("Rooms", newBtn), listEl), detail));

  let agents = [];
  let rooms = [];
  let current = null;
  let roomUnsub = null;
  let posting = null; // AbortController while a post streams

  try {
    [agents, rooms] = await Promise.all([loadAgents(), api.get("rooms?limit=100").then(items)]);
  } catch (e) {
    replace(detail, h("div", { class: "detail" }, errorBox(e)));
    return () => {};
  }
  const label = (id) => agentLabel(agents, id);

  function renderList() {
    listEl.replaceChildren();
    if (!rooms.length) listEl.append(h("li", { class: "empty small" }, "No rooms yet."));
    for (const r of rooms) {
      const btn = h("button", { type: "button", class: "list-item", "aria-current": current && current.id === r.id ? "true" : "false" },
        h("span", { class: "title" }, r.name, r.status === "decided" ? h("span", { class: "badge accent" }, "decided") : null),
        h("span", { class: "sub" }, [(r.members || []).map(label).join(", "), r.mode === "mention" ? "@mention" : ""].filter(Boolean).join(" · ")));
      btn.addEventListener("click", () => openRoom(r));
      listEl.append(h("li", null, btn));
    }
  }

  // ---- create ----
  function renderCreate() {
    if (roomUnsub) { roomUnsub(); roomUnsub = null; }
    current = null;
    renderList();
    const name = h("input", { type: "text", required: true, autocomplete: "off" });
    const topic = h("input", { type: "text", autocomplete: "off" });
    // Members reply in this order; the chair must be one of them.
    const ordered = agents;
    const memberChecks = ordered.map((a) => checkbox(a.display_name || a.name, a.name !== "prime" && ordered.indexOf(a) < 4, { value: a.id }));
    const chair = h("select", { id: "room-chair" });
    const refreshChair = () => {
      const prev = chair.value;
      const chosen = memberChecks.filter((c) => c.input.checked).map((c) => ordered.find((a) => a.id === c.input.value));
      replace(chair, chosen.map((a) => h("option", { value: a.id }, a.display_name || a.name)));
      if (chosen.some((a) => a.id === prev)) chair.value = prev;
    };
    memberChecks.forEach((c) => c.input.addEventListener("change", refreshChair));
    refreshChair();
    const mode = select([{ value: "round_robin", label: "Round robin: every member replies in turn" }, { value: "mention", label: "Mention: only @named members reply" }], "round_robin");
    const create = h("button", { type: "submit", class: "primary" }, "Create room");
    const form = h("form", { class: "detail", "aria-label": "New room" },
      h("div", { class: "detail-head" }, h("h2", null, "New room")),
      h("div", { class: "grid2" }, field("Room name", name), field("Topic", topic)),
      h("fieldset", null, h("legend", null, "Members"), h("div", { class: "checklist" }, memberChecks.map((c) => c.wrap))),
      h("div", { class: "grid2" }, field("Chair", chair, "A member who rules when the method is chair and breaks ties."), field("Mode", mode)),
      h("div", { class: "actions" }, create));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const members = memberChecks.filter((c) => c.input.checked).map((c) => c.input.value);
      if (!members.length) { toast("Choose at least one member.", "error"); return; }
      create.disabled = true;
      try {
        const room = await api.post("rooms", { name: name.value.trim(), topic: topic.value.trim(), members, chair_agent_id: chair.value, mode: mode.value });
        rooms = [room, ...rooms];
        openRoom(room);
        toast("Room created");
      } catch (err) {
        toast(errorText(err), "error");
      } finally {
        create.disabled = false;
      }
    });
    replace(detail, form);
    name.focus();
  }

  // ---- a room ----
  async function openRoom(room) {
    if (posting) posting.abort();
    current = room;
    renderList();
    const msgsEl = h("div", { class: "room-msgs", role: "log", "aria-label": "Room discussion" }, h("div", { class: "empty small" }, "Loading…"));
    const seen = new Set();
    const status = h("span", { class: "muted small", role: "status", "aria-live": "polite" });
    const decisionBox = h("div");
    const textarea = h("textarea", { id: "room-message", rows: 2, placeholder: "Message the room… (@name to address a member)", "aria-label": "Message" });
    const postBtn = h("button", { type: "button", class: "primary" }, icon(ICONS.send, 14), "Post");
    const stopBtn = h("button", { type: "button", class: "danger hidden" }, icon(ICONS.stop, 14), "Stop");
    const question = h("input", { type: "text", autocomplete: "off", placeholder: room.topic || "What should we decide?" });
    const method = select([{ value: "chair", label: "Chair decides" }, { value: "vote", label: "Members vote" }], "vote");
    const decideBtn = h("button", { type: "button" }, icon(ICONS.spark, 14), "Decide");
    const humanDecision = h("input", { type: "text", autocomplete: "off" });
    const recordBtn = h("button", { type: "button" }, "Record decision");

    const composer = h("div", { class: "stack" },
      room.status === "decided" ? h("div", { class: "muted small" }, "The room has decided; the discussion is closed.")
        : h("div", { class: "row", style: "align-items: flex-end" }, textarea, postBtn, stopBtn), status);
    const members = (room.members || []).map((id) => h("span", { class: `badge${id === room.chair_agent_id ? " accent" : ""}`, title: id === room.chair_agent_id ? "Chair" : "" },
      label(id) + (id === room.chair_agent_id ? " · chair" : "")));
    const decidePanel = h("section", { class: "card stack", "aria-label": "Decide" },
      h("h3", null, "Decide"),
      h("div", { class: "grid2" }, field("Question", question), field("Method", method)),
      h("div", { class: "actions" }, decideBtn),
      h("div", { class: "grid2", style: "align-items: end" }, field("Or record your own decision", humanDecision), h("div", null, recordBtn)));

    replace(detail, h("div", { class: "detail" },
      h("div", { class: "detail-head" }, h("h2", null, room.name), h("span", { class: "badge" }, room.mode === "mention" ? "mention" : "round robin"),
        room.status === "decided" ? h("span", { class: "badge accent" }, "decided") : null),
      room.topic ? h("div", { class: "muted" }, room.topic) : null,
      h("div", { class: "row wrap" }, h("span", { class: "muted small" }, "Members"), members,
        room.chair_agent_id && !(room.members || []).includes(room.chair_agent_id) ? [h("span", { class: "muted small", style: "margin-left: 8px" }, "Chair"), h("span", { class: "badge accent" }, label(room.chair_agent_id))] : null),
      decisionBox,
      h("section", { class: "card" }, msgsEl),
      composer,
      room.status === "decided" ? null : decidePanel));

    const blocks = new Map(); // message id -> {el, body, src}: members' replies, streamed then final
    const messageBlock = (id, agentId, human, at, kind) => {
      const body = h("div", { class: "msg-body" });
      const el = h("article", { class: `msg ${human ? "user" : "assistant"}` },
        h("div", { class: "msg-head" }, h("span", { class: "msg-author" }, human ? "You" : label(agentId)),
          kind && kind !== "message" ? h("span", { class: "badge" }, kind) : null,
          h("time", { class: "msg-time", datetime: at || "" }, shortTime(at))),
        body);
      msgsEl.querySelector(".empty")?.remove();
      msgsEl.append(el);
      const block = { el, body, src: "" };
      if (id) blocks.set(id, block);
      el.scrollIntoView({ block: "nearest" });
      return block;
    };
    let pendingHuman = null; // {content, block}: the post shown before the server stored it
    const addMessage = (m) => {
      if (!m || (m.id && seen.has(m.id))) return;
      if (m.id) seen.add(m.id);
      const human = !m.agent_id || m.role === "user";
      if (human && pendingHuman && m.id && String(m.content) === pendingHuman.content) {
        blocks.set(m.id, pendingHuman.block); // the stored copy of what we already show
        pendingHuman = null;
        return;
      }
      const block = (m.id && blocks.get(m.id)) || messageBlock(m.id, m.agent_id, human, m.created_at, m.kind);
      block.el.querySelector(".cursor")?.classList.remove("cursor");
      if (human) block.body.replaceChildren(String(m.content ?? ""));
      else block.body.replaceChildren(renderMarkdown(m.content || block.src));
      if (m.status === "failed") block.el.append(errorBox(m.error || { code: "failed", message: "This member's reply failed." }));
    };
    const addDelta = (d) => {
      if (!d || !d.message_id || seen.has(d.message_id)) return;
      const block = blocks.get(d.message_id) || messageBlock(d.message_id, d.agent_id, false, new Date().toISOString());
      block.src += d.text || "";
      block.body.replaceChildren(renderMarkdown(block.src));
      (block.body.lastElementChild || block.body).classList.add("cursor");
      if (d.agent_id) status.textContent = `${label(d.agent_id)} is replying…`;
    };
    const showDecision = (d) => {
      if (!d) return;
      if (typeof d === "string") d = { outcome: d };
      const votes = d.votes || [];
      replace(decisionBox, h("section", { class: "decision", "aria-label": "Decision" },
        h("div", { class: "muted small" }, `Decision${d.method ? ` by ${d.method === "human" ? "you" : d.method}` : ""}${d.decided_at ? ` · ${fullTime(d.decided_at)}` : ""}`),
        d.question ? h("div", { class: "muted" }, d.question) : null,
        h("div", { class: "outcome" }, d.outcome || ""),
        d.summary ? h("div", { class: "msg-body" }, renderMarkdown(d.summary)) : null,
        votes.length ? h("table", { class: "data", style: "margin-top: 8px" },
          h("thead", null, h("tr", null, h("th", null, "Member"), h("th", null, "Vote"), h("th", null, "Rationale"))),
          h("tbody", null, votes.map((v) => h("tr", null, h("td", null, label(v.agent_id)), h("td", null, h("strong", null, String(v.vote ?? ""))), h("td", null, v.rationale || ""))))) : null));
      decidePanel.remove();
    };
    if (room.decision) showDecision(room.decision);

    if (roomUnsub) roomUnsub();
    roomUnsub = subscribe(`room:${room.id}`, (ev) => {
      if (ev.event === "room.message") addMessage(ev.data && ev.data.message ? ev.data.message : ev.data);
      if (ev.event === "room.decided") { const d = ev.data && (ev.data.decision || ev.data); showDecision(d); markDecided(d); }
    });

    try {
      const list = items(await api.get(qs(`rooms/${encodeURIComponent(room.id)}/messages`, { limit: 200 })));
      if (current !== room) return;
      msgsEl.replaceChildren();
      if (!list.length) msgsEl.append(h("div", { class: "empty small" }, "No messages yet. Post one to start the discussion."));
      // Oldest first for reading; the API may list newest first.
      const sorted = [...list].sort((a, b) => String(a.created_at || "").localeCompare(String(b.created_at || "")));
      sorted.forEach(addMessage);
    } catch (e) {
      replace(msgsEl, errorBox(e));
    }

    function markDecided(d) {
      room.status = "decided";
      room.decision = d;
      renderList();
      composer.firstElementChild.replaceWith(h("div", { class: "muted small" }, "The room has decided; the discussion is closed."));
    }

    async function post() {
      const content = textarea.value.trim();
      if (!content || posting) return;
      textarea.value = "";
      const controller = new AbortController();
      posting = controller;
      postBtn.classList.add("hidden");
      stopBtn.classList.remove("hidden");
      status.textContent = "Members are replying…";
      pendingHuman = { content, block: messageBlock(null, null, true, new Date().toISOString()) };
      pendingHuman.block.body.replaceChildren(content);
      try {
        for await (const ev of postStream(`/api/rooms/${encodeURIComponent(room.id)}/messages`, { content, stream: true }, controller.signal)) {
          const d = ev.data;
          if (d === "[DONE]") break;
          if (d && typeof d === "object" && d.error) { msgsEl.append(errorBox(d.error)); break; }
          if (ev.event === "room.delta") {
            addDelta(d);
          } else if (ev.event === "room.message") {
            const m = d && d.message ? d.message : d;
            addMessage(m);
            if (m && m.agent_id) status.textContent = `${label(m.agent_id)} replied.`;
          } else if (ev.event === "json") {
            for (const m of items(d && d.messages ? d.messages : d)) if (m.agent_id) addMessage(m);
          }
        }
        status.textContent = "";
      } catch (e) {
        if (e.name === "AbortError") status.textContent = "Stopped.";
        else { status.textContent = ""; msgsEl.append(errorBox(e)); }
      } finally {
        posting = null;
        postBtn.classList.remove("hidden");
        stopBtn.classList.add("hidden");
      }
    }

    async function decide(body, button) {
      button.disabled = true;
      status.textContent = body.method === "vote" ? "Members are voting…" : body.method === "chair" ? "The chair is deciding…" : "";
      try {
        const res = await api.post(`rooms/${encodeURIComponent(room.id)}/decide`, body);
        const d = (res && res.decision) || res;
        showDecision(d);
        markDecided(d);
        status.textContent = "";
      } catch (e) {
        status.textContent = "";
        toast(errorText(e), "error");
      } finally {
        button.disabled = false;
      }
    }

    postBtn.addEventListener("click", post);
    stopBtn.addEventListener("click", () => posting && posting.abort());
    textarea.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); post(); }
      if (e.key === "Escape" && posting) { e.preventDefault(); posting.abort(); }
    });
    decideBtn.addEventListener("click", () => {
      const body = { method: method.value };
      if (question.value.trim()) body.question = question.value.trim();
      decide(body, decideBtn);
    });
    recordBtn.addEventListener("click", () => {
      if (!humanDecision.value.trim()) { humanDecision.focus(); return; }
      decide({ decision: humanDecision.value.trim() }, recordBtn);
    });
  }

  newBtn.addEventListener("click", renderCreate);
  renderList();
  if (rooms.length) openRoom(rooms[0]); else renderCreate();
  return () => {
    if (posting) posting.abort();
    if (roomUnsub) roomUnsub();
  };
}
