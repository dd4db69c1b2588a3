// Markdown as models write it (GitHub-flavoured: tables, task lists, nested lists, fences inside
// lists), rendered safely: text in, DOM nodes out.
//
// marked parses; raw HTML in the source is shown as text (never markup); DOMPurify sanitizes what
// marked produced against a short allow-list before it becomes nodes; then the app's own rules run on
// the nodes: links only to http(s)/mailto and never a sign-in link into this app, images shown as
// links (the app makes no requests outside its own origin), code blocks highlighted by highlight.js
// with a Copy button. An unclosed fence renders as code, so a reply still streaming looks right.

import { Marked, Renderer } from "../vendor/marked.esm.js";
import DOMPurify from "../vendor/purify.es.js";
import hljs from "../vendor/highlight.min.js";
import { h, copyText } from "./dom.js";

const ALLOWED_TAGS = ["a", "blockquote", "br", "code", "del", "em", "h3", "h4", "h5", "h6", "hr", "input",
  "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul"];
const ALLOWED_ATTR = ["href", "title", "start", "type", "checked", "disabled", "align", "class", "data-lang"];
// Larger files are highlighted no further: colouring is a nicety, a long paste must stay fast.
const HIGHLIGHT_MAX_CHARS = 20_000;

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const renderer = new Renderer();
// Raw HTML is untrusted text: show it, never run or render it.
renderer.html = ({ text }) => escapeHtml(text);
// Inside a message the page's own headings come first: # becomes h3 .. ###### stays h6.
renderer.heading = function ({ tokens, depth }) {
  const level = Math.min(depth + 2, 6);
  return `<h${level} class="md-h">${this.parser.parseInline(tokens)}</h${level}>\n`;
};
// Images become links to the image: nothing is fetched from anywhere.
renderer.image = ({ href, text }) => `<a href="${escapeHtml(href)}">[image: ${escapeHtml(text || href)}]</a>`;
renderer.code = ({ text, lang }) => {
  const language = String(lang || "").trim().split(/\s+/)[0];
  return `<pre><code data-lang="${escapeHtml(language)}">${escapeHtml(text)}</code></pre>\n`;
};
renderer.table = function (token) {
  return `<div class="md-table">${Renderer.prototype.table.call(this, token)}</div>\n`;
};

const marked = new Marked({ gfm: true, breaks: true, renderer });

/** Render markdown source to a DocumentFragment. */
export function renderMarkdown(src) {
  const html = marked.parse(String(src ?? ""), { async: false });
  const frag = DOMPurify.sanitize(html, {
    // DOMPurify's default URI rule stays (it drops javascript: and the like); safeLink narrows links further.
    ALLOWED_TAGS: [...ALLOWED_TAGS, "div"], ALLOWED_ATTR, RETURN_DOM_FRAGMENT: true,
  });
  frag.querySelectorAll("a").forEach(safeLink);
  frag.querySelectorAll("input").forEach(taskBox);
  frag.querySelectorAll("pre > code").forEach((code) => code.parentElement.replaceWith(codeBlock(code)));
  return frag;
}

/** A task-list checkbox: read-only, named for screen readers. */
function taskBox(input) {
  if (input.type !== "checkbox") { input.remove(); return; }
  input.disabled = true;
  input.setAttribute("aria-label", input.checked ? "done" : "to do");
}

function codeBlock(code) {
  const lang = code.dataset.lang || "";
  const source = code.textContent;
  const copy = h("button", { type: "button", class: "ghost small", "aria-label": "Copy code" }, "Copy");
  copy.addEventListener("click", async () => {
    copy.textContent = (await copyText(source)) ? "Copied" : "Copy failed";
    setTimeout(() => { copy.textContent = "Copy"; }, 1400);
  });
  const out = h("code", { "data-lang": lang || undefined, class: "hljs" });
  out.append(highlighted(source, lang));
  return h("div", { class: "code" },
    h("div", { class: "code-head" }, h("span", null, lang || "text"), copy),
    h("pre", null, out));
}

/** Highlighted nodes for a known language; plain text otherwise. */
function highlighted(source, lang) {
  if (!lang || !hljs.getLanguage(lang) || source.length > HIGHLIGHT_MAX_CHARS) return document.createTextNode(source);
  try {
    const html = hljs.highlight(source, { language: lang, ignoreIllegals: true }).value;
    // highlight.js escapes the source itself; sanitizing again keeps "no raw HTML" a local fact.
    return DOMPurify.sanitize(html, { ALLOWED_TAGS: ["span"], ALLOWED_ATTR: ["class"], RETURN_DOM_FRAGMENT: true });
  } catch {
    return document.createTextNode(source);
  }
}

/**
 * A link stays a link only when the URL is http(s) or mailto; anything else becomes its text. So does
 * a link into this app carrying a sign-in fragment (#token=, #login=): an answer, which anyone's text
 * can steer, must not offer a click that signs this browser in as someone else.
 */
function safeLink(a) {
  const url = a.getAttribute("href") || "";
  let parsed = null;
  try { parsed = new URL(url, location.origin); } catch { parsed = null; }
  if (!parsed || !["http:", "https:", "mailto:"].includes(parsed.protocol) || !/^(https?:|mailto:)/i.test(url)
      || signsIntoThisApp(parsed)) {
    const span = h("span");
    span.append(...a.childNodes);
    a.replaceWith(span);
    return;
  }
  for (const attr of [...a.attributes]) if (attr.name !== "href" && attr.name !== "title") a.removeAttribute(attr.name);
  a.href = parsed.href;
  a.target = "_blank";
  a.rel = "noopener noreferrer nofollow";
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** True for a URL of this app (its origin, or its port on another loopback name) whose fragment signs in. */
function signsIntoThisApp(url) {
  const here = url.origin === location.origin
    || (LOOPBACK_HOSTS.has(url.hostname) && LOOPBACK_HOSTS.has(location.hostname) && url.port === location.port);
  if (!here || !url.hash) return false;
  let fragment = url.hash;
  try { fragment = decodeURIComponent(fragment); } catch { /* a malformed escape: test it as it is */ }
  return /(?:^#|[&?#/;])\s*(?:token|login)=/i.test(fragment);
}
