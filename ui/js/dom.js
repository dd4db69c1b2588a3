// Tiny DOM helpers. Everything is built with createElement/textContent: no HTML strings anywhere,
// so untrusted text (model output, tool results, names) can never become markup.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an element: h("button", {class: "x", onclick: fn, "aria-label": "Send"}, "text", child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) applyAttrs(el, attrs);
  append(el, children);
  return el;
}

function applyAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" || key === "checked" || key === "selected" || key === "disabled") {
      el[key] = value;
    } else if (key === "text") {
      el.textContent = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** Append children: strings become text nodes, arrays are flattened, null/false skipped. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** An inline SVG icon from trusted path data in icons.js. */
export function icon(paths, size = 18) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "1.8");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  for (const d of [].concat(paths)) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** A labelled form field: returns {wrap, input}. The label element names the control. */
let fieldSeq = 0;
export function field(label, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  const wrap = h("div", { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("div", { class: "hint" }, hint) : null);
  return wrap;
}

/** A checkbox with its label to the right. */
export function checkbox(label, checked, attrs = {}) {
  const input = h("input", { type: "checkbox", checked, ...attrs });
  const wrap = h("label", { class: "check" }, input, h("span", null, label));
  return { wrap, input };
}

/** <select> from [{value, label}] items. */
export function select(items, value, attrs = {}) {
  const el = h("select", attrs);
  for (const item of items) {
    el.append(h("option", { value: item.value, selected: item.value === value }, item.label));
  }
  if (value !== undefined && value !== null) el.value = value;
  return el;
}

/** Format an ISO timestamp as a short local time or date. */
export function shortTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  if (d.toDateString() === now.toDateString()) {
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  return d.toLocaleDateString([], { month: "short", day: "numeric" });
}

export function fullTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
}

/** Group label for a date: Today, Yesterday, weekday within a week, else the date. */
export function dayLabel(iso) {
  const d = new Date(iso || 0);
  if (Number.isNaN(d.getTime()) || !iso) return "Older";
  const start = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((start(new Date()) - start(d)) / 86400000);
  if (days <= 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days < 7) return d.toLocaleDateString([], { weekday: "long" });
  return d.toLocaleDateString([], { year: "numeric", month: "long", day: "numeric" });
}

/** Copy text to the clipboard; resolves true on success. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h("textarea", { value: text, "aria-hidden": "true", style: "position:fixed;opacity:0" });
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    return ok;
  }
}

/** Run fn at most once per animation frame (used to re-render streamed markdown). */
export function frameThrottle(fn) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; fn(); });
  };
}

export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
