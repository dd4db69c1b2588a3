// Rooms: several agents in one conversation. Create a room (members, chair, mode), post a message
// and watch the members reply live, then decide (chair or vote) and read the decision as vote cards.
// A room can be renamed, deleted, and reopened after a decision.

import { h, icon, replace, field, select, checkbox, shortTime, fullTime } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items, qs } from "../api.js";
import { postStream } from "../sse.js";
import { renderMarkdown } from "../markdown.js";
import { subscribe } from "../live.js";
import { agents as loadAgents, agentLabel } from "../store.js";
import { paneHead, confirmAction } from "../ui.js";
import { sentence } from "../forms.js";

const INTRO = "A room puts several agents in one conversation. You post a message; the members answer in turn, "
  + "each reading what the others said. When the discussion has run its course, the room decides: the members vote "
  + "(or the chair rules) and the decision is kept with every vote and reason.";

/** The first JSON object in a member's answer, or null (votes and rulings are asked for as JSON). */
function jsonIn(text) {
  const s = String(text || "");
  for (let i = s.indexOf("{"); i !== -1; i = s.indexOf("{", i + 1)) {
    for (let j = s.lastIndexOf("}"); j > i; j = s.lastIndexOf("}", j - 1)) {
      try {
        const v = JSON.parse(s.slice(i, j + 1));
        if (v && typeof v === "object" && !Array.isArray(v)) return v;
      } catch { /* try a shorter span */ }
    }
  }
  return null;
}

/** A vote names a choice: not blank, not a "<placeholder>" echoed back from the instructions. */
function isChoice(vote) {
  const s = vote === null || vote === undefined ? "" : String(vote);
  return /\w/.test(s) && !/^\s*<[^<>]*>\s*$/.test(s);
}

/** A vote or abstention as a card: who, the choice, and why. */
function voteCard(who, vote, rationale, { named = true } = {}) {
  const abstained = !isChoice(vote);
  // An abstention's rationale is the member's raw answer: JSON without a real choice says nothing more.
  if (abstained && /^\s*[{<]/.test(String(rationale || ""))) rationale = "Gave no real choice.";
  return h("div", { class: `vote-card${abstained ? " abstained" : ""}`, role: "group", "aria-label": `Vote of ${who}` },
    named ? h("div", { class: "who" }, who) : null,
    h("div", { class: "choice" }, abstained ? "No vote" : String(vote)),
    rationale ? h("div", { class: "why" }, String(rationale)) : null);
}

export async function mount(container, { toast }) {
  const listEl = h("ul", { class: "list", "aria-label": "Rooms" });
  const detail = h("div", { class: "pane-detail" });
  const newBtn = h("button", { type: "button", class: "primary small" }, icon(ICONS.plus, 14), "New room");
  container.append(h("div", { class: "split" },
    h("aside", { class: "pane-list" }, paneHead("Rooms", newBtn), listEl), detail));

  let agents = [];
  let everyone = []; // deleted agents too, so former members keep their names
  let rooms = [];
  let current = null;
  let roomUnsub = null;
  let posting = null; // AbortController while a post streams

  try {
    [agents, rooms, everyone] = await Promise.all([loadAgents(), api.get("rooms?limit=100").then(items),
      api.get("agents?limit=200&include_deleted=true").then(items).catch(() => [])]);
  } catch (e) {
    replace(detail, h("div", { class: "detail" }, h("div", { class: "error-box", role: "alert" }, sentence(e))));
    return () => {};
  }
  const live = new Set(agents.map((a) => a.id));
  const label = (id) => {
    const name = agentLabel(everyone.length ? everyone : agents, id);
    return id && !live.has(id) && everyone.some((a) => a.id === id) ? `${name} (deleted)` : name;
  };

  function renderList() {
    listEl.replaceChildren();
    if (!rooms.length) listEl.append(h("li", { class: "empty small" }, "No rooms yet."));
    for (const r of rooms) {
      const btn = h("button", { type: "button", class: "list-item", "aria-current": current && current.id === r.id ? "true" : "false" },
        h("span", { class: "title" }, r.name, r.status === "decided" ? h("span", { class: "badge" }, "decided") : null),
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
    const name = h("input", { type: "text", required: true, autocomplete: "off", placeholder: "Launch review" });
    const topic = h("input", { type: "text", autocomplete: "off", placeholder: "Do we ship on Friday?" });
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
    const intro = rooms.length ? h("p", { class: "muted small", style: "margin: 0" }, INTRO)
      : h("section", { class: "explain", "aria-label": "What a room is for" },
        h("h2", null, "Let several agents think it through together"),
        h("p", null, INTRO),
        h("ol", null,
          h("li", null, "Pick the members and a chair (the chair breaks ties)."),
          h("li", null, "Post a question; every member answers, or only the ones you @mention."),
          h("li", null, "Press Decide for a vote, or record your own decision.")));
    const form = h("form", { class: "detail", "aria-label": "New room" },
      intro,
      h("div", { class: "detail-head" }, h("h2", null, "New room")),
      h("div", { class: "grid2" }, field("Room name", name), field("Topic", topic, "What the room is about; the default question when it decides.")),
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
        toast(sentence(err), "error");
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
    const turnError = h("div"); // one banner for the turn, however many members failed
    const seen = new Set();
    const status = h("span", { class: "muted small", role: "status", "aria-live": "polite" });
    const decisionBox = h("div");
    const mentionHint = room.mode === "mention" ? `Address members with @name: ${(room.members || []).filter((id) => live.has(id)).map((id) => `@${(everyone.find((a) => a.id === id) || {}).name || id}`).join(", ")}` : "";
    const textarea = h("textarea", { id: "room-message", rows: 2, placeholder: mentionHint || "Message the room…", "aria-label": "Message" });
    const postBtn = h("button", { type: "button", class: "primary" }, icon(ICONS.send, 14), "Post");
    const stopBtn = h("button", { type: "button", class: "danger hidden" }, icon(ICONS.stop, 14), "Stop");
    const question = h("input", { type: "text", autocomplete: "off", placeholder: room.topic || "What should we decide?" });
    const method = select([{ value: "chair", label: "Chair decides" }, { value: "vote", label: "Members vote" }], "vote");
    const decideBtn = h("button", { type: "button" }, icon(ICONS.spark, 14), "Decide");
    const humanDecision = h("input", { type: "text", autocomplete: "off" });
    const recordBtn = h("button", { type: "button" }, "Record decision");
    const renameBtn = h("button", { type: "button", class: "small" }, "Rename room");
    const reopenBtn = h("button", { type: "button", class: "small" }, "Reopen room");
    const deleteBtn = h("button", { type: "button", class: "small danger" }, icon(ICONS.trash, 14), "Delete room");
    const editBox = h("div");

    const closedNote = () => h("div", { class: "muted small" }, "The room has decided; the discussion is closed. Reopen it to go on.");
    const composer = h("div", { class: "stack" },
      room.status === "decided" ? closedNote()
        : h("div", { class: "row", style: "align-items: flex-end" }, textarea, postBtn, stopBtn), status);
    const members = (room.members || []).map((id) => h("span", { class: `badge${id === room.chair_agent_id ? " accent" : ""}` },
      label(id) + (id === room.chair_agent_id ? " · chair" : "")));
    const decidePanel = h("section", { class: "card stack", "aria-label": "Decide" },
      h("h3", null, "Decide"),
      h("div", { class: "grid2" }, field("Question", question), field("Method", method)),
      h("div", { class: "actions" }, decideBtn),
      h("div", { class: "grid2", style: "align-items: end" }, field("Or record your own decision", humanDecision), h("div", null, recordBtn)));

    replace(detail, h("div", { class: "detail" },
      h("div", { class: "detail-head" },
        h("div", { class: "row wrap grow" }, h("h2", { style: "flex: none" }, room.name), h("span", { class: "badge" }, room.mode === "mention" ? "mention" : "round robin"),
          room.status === "decided" ? h("span", { class: "badge accent" }, "decided") : null),
        renameBtn, room.status === "decided" ? reopenBtn : null, deleteBtn),
      editBox,
      room.topic ? h("div", { class: "muted" }, room.topic) : null,
      h("div", { class: "row wrap" }, h("span", { class: "muted small" }, "Members"), members),
      decisionBox,
      turnError,
      h("section", { class: "card" }, msgsEl),
      composer,
      room.status === "decided" ? null : decidePanel));

    let failures = [];
    const noteFailure = (m) => {
      failures.push(m);
      const first = m.error || {};
      const who = failures.map((x) => label(x.agent_id)).join(", ");
      replace(turnError, h("div", { class: "error-box", role: "alert" },
        `${failures.length === 1 ? `${who} could not reply` : `${failures.length} members could not reply (${who})`}: ${sentence(first)}`));
    };

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
    /** A member's answer: votes and rulings read as cards, not as the JSON they were asked for. */
    const answerBody = (m, text) => {
      const data = m.kind === "vote" || m.kind === "ruling" ? jsonIn(text) : null;
      if (m.kind === "vote" && data) return voteCard(label(m.agent_id), data.vote, data.rationale, { named: false });
      if (m.kind === "ruling" && data && data.outcome) {
        return h("div", null, h("strong", null, String(data.outcome)), data.summary ? h("div", null, String(data.summary)) : null);
      }
      return renderMarkdown(text);
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
      else if (m.status === "failed" && !m.content) block.body.replaceChildren(h("span", { class: "muted" }, "No reply."));
      else block.body.replaceChildren(answerBody(m, m.content || block.src));
      if (m.status === "failed") noteFailure(m);
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
      const real = votes.filter((v) => isChoice(v.vote));
      const by = d.method === "human" ? "you" : d.method === "chair" ? "the chair" : d.method === "vote" ? "vote" : "";
      replace(decisionBox, h("section", { class: "decision", "aria-label": "Decision" },
        h("div", { class: "muted small" }, `Decision${by ? ` by ${by}` : ""}${d.decided_at ? ` · ${fullTime(d.decided_at)}` : ""}`),
        d.question ? h("div", { class: "muted" }, d.question) : null,
        h("div", { class: "outcome" }, d.outcome || ""),
        d.summary ? h("div", { class: "msg-body" }, renderMarkdown(d.summary)) : null,
        votes.length && !real.length ? h("div", { class: "muted small" }, "No member cast a real vote.") : null,
        votes.length ? h("div", { class: "votes", role: "list", "aria-label": "Votes" },
          votes.map((v) => h("div", { role: "listitem" }, voteCard(label(v.agent_id), v.vote, v.rationale)))) : null));
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
      if (!list.length) {
        msgsEl.append(h("div", { class: "empty small" }, room.mode === "mention"
          ? `No messages yet. Post one and @mention who should answer. ${mentionHint}.`
          : "No messages yet. Post a question and every member answers in turn."));
      }
      // Oldest first for reading; the API may list newest first.
      const sorted = [...list].sort((a, b) => String(a.created_at || "").localeCompare(String(b.created_at || "")));
      sorted.forEach(addMessage);
      failures = []; // past turns' failures are shown on their messages, not as a banner
      turnError.replaceChildren();
    } catch (e) {
      replace(msgsEl, h("div", { class: "error-box", role: "alert" }, sentence(e)));
    }

    function markDecided(d) {
      // The decide answer and the live room.decided event both arrive: show the decision once.
      if (current !== room || (room.status === "decided" && room.decision && d && room.decision.decided_at === d.decided_at)) return;
      room.status = "decided";
      room.decision = d;
      renderList();
      openRoom(room);
    }

    async function post() {
      const content = textarea.value.trim();
      if (!content || posting) return;
      textarea.value = "";
      failures = [];
      turnError.replaceChildren();
      const controller = new AbortController();
      posting = controller;
      postBtn.classList.add("hidden");
      stopBtn.classList.remove("hidden");
      status.textContent = "Members are replying…";
      pendingHuman = { content, block: messageBlock(null, null, true, new Date().toISOString()) };
      pendingHuman.block.body.replaceChildren(content);
      let note = "";
      try {
        for await (const ev of postStream(`/api/rooms/${encodeURIComponent(room.id)}/messages`, { content, stream: true }, controller.signal)) {
          const d = ev.data;
          if (d === "[DONE]") break;
          if (d && typeof d === "object" && d.error) { replace(turnError, h("div", { class: "error-box", role: "alert" }, sentence(d.error))); break; }
          if (ev.event === "room.delta") {
            addDelta(d);
          } else if (ev.event === "room.note") {
            note = (d && d.note) || "";
          } else if (ev.event === "room.message") {
            const m = d && d.message ? d.message : d;
            addMessage(m);
            if (m && m.agent_id) status.textContent = `${label(m.agent_id)} replied.`;
          } else if (ev.event === "json") {
            for (const m of items(d && d.messages ? d.messages : d)) if (m.agent_id) addMessage(m);
            note = (d && d.note) || note;
          }
        }
        status.textContent = note;
      } catch (e) {
        if (e.name === "AbortError") status.textContent = "Stopped.";
        else { status.textContent = ""; replace(turnError, h("div", { class: "error-box", role: "alert" }, sentence(e))); }
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
        status.textContent = "";
        markDecided((res && res.decision) || res);
      } catch (e) {
        status.textContent = "";
        toast(sentence(e), "error");
      } finally {
        button.disabled = false;
      }
    }

    const replaceRoom = (updated) => {
      rooms = rooms.map((r) => (r.id === updated.id ? updated : r));
      openRoom(updated);
    };
    renameBtn.addEventListener("click", () => {
      if (editBox.firstChild) { editBox.replaceChildren(); return; }
      const newName = h("input", { type: "text", value: room.name, required: true, autocomplete: "off" });
      const newTopic = h("input", { type: "text", value: room.topic || "", autocomplete: "off" });
      const save = h("button", { type: "submit", class: "primary" }, "Save");
      const cancel = h("button", { type: "button" }, "Cancel");
      const form = h("form", { class: "card stack", "aria-label": "Rename room" },
        h("div", { class: "grid2" }, field("Room name", newName), field("Topic", newTopic)), h("div", { class: "actions" }, save, cancel));
      cancel.addEventListener("click", () => editBox.replaceChildren());
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        save.disabled = true;
        try {
          replaceRoom(await api.patch(`rooms/${encodeURIComponent(room.id)}`, { name: newName.value.trim(), topic: newTopic.value.trim() }));
          toast("Room renamed");
        } catch (err) {
          toast(sentence(err), "error");
          save.disabled = false;
        }
      });
      replace(editBox, form);
      newName.focus();
    });
    reopenBtn.addEventListener("click", async () => {
      if (!confirmAction(`Reopen ${room.name}? Its decision is cleared so the discussion can go on.`)) return;
      try {
        replaceRoom(await api.patch(`rooms/${encodeURIComponent(room.id)}`, { status: "open" }));
        toast("Room reopened");
      } catch (err) {
        toast(sentence(err), "error");
      }
    });
    deleteBtn.addEventListener("click", async () => {
      if (!confirmAction(`Delete ${room.name} and its discussion? The members' own conversations are kept.`)) return;
      try {
        await api.del(`rooms/${encodeURIComponent(room.id)}`);
        if (roomUnsub) { roomUnsub(); roomUnsub = null; }
        rooms = rooms.filter((r) => r.id !== room.id);
        toast("Room deleted");
        if (rooms.length) openRoom(rooms[0]); else renderCreate();
      } catch (err) {
        toast(sentence(err), "error");
      }
    });

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
