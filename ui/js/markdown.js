// A small, safe markdown renderer: text in, DOM nodes out. It never parses HTML: any "<tag>" in
// the source is plain text, links are limited to http(s)/mailto, and images are shown as links
// (the app makes no requests outside its own origin). Unclosed fences render as code, so a reply
// that is still streaming looks right at every step.

import { h, copyText } from "./dom.js";

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)?.*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const HR = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

/** Render markdown source to a DocumentFragment. */
export function renderMarkdown(src) {
  const frag = document.createDocumentFragment();
  const lines = String(src ?? "").replace(/\r\n?/g, "\n").split("\n");
  for (const node of parseBlocks(lines)) frag.append(node);
  return frag;
}

function parseBlocks(lines) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i++; continue; }

    const fence = line.match(FENCE);
    if (fence) {
      const marker = fence[1];
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(marker)) body.push(lines[i++]);
      i++; // closing fence (or past the end while streaming)
      out.push(codeBlock(body.join("\n"), fence[2] || ""));
      continue;
    }

    const heading = line.match(HEADING);
    if (heading) {
      const level = Math.min(heading[1].length + 2, 6); // h3..h6 inside a message
      out.push(h(`h${level}`, { class: "md-h" }, parseInline(heading[2])));
      i++;
      continue;
    }

    if (HR.test(line)) { out.push(h("hr")); i++; continue; }

    if (QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && lines[i].trim() && QUOTE.test(lines[i])) {
        body.push(lines[i].match(QUOTE)[1]);
        i++;
      }
      out.push(h("blockquote", null, parseBlocks(body)));
      continue;
    }

    if (LIST_ITEM.test(line)) {
      const [node, next] = parseList(lines, i);
      out.push(node);
      i = next;
      continue;
    }

    if (line.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes("-")) {
      const rows = [line];
      i += 2;
      while (i < lines.length && lines[i].trim() && lines[i].includes("|")) rows.push(lines[i++]);
      out.push(table(rows));
      continue;
    }

    const para = [];
    while (i < lines.length && lines[i].trim() && !startsBlock(lines, i)) para.push(lines[i++]);
    if (!para.length) para.push(lines[i++]);
    out.push(h("p", null, parseInline(para.join("\n"))));
  }
  return out;
}

function startsBlock(lines, i) {
  const line = lines[i];
  return FENCE.test(line) || HEADING.test(line) || HR.test(line) || QUOTE.test(line) ||
    LIST_ITEM.test(line) ||
    (line.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes("-"));
}

function parseList(lines, start) {
  const first = lines[start].match(LIST_ITEM);
  const baseIndent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const list = ordered ? h("ol") : h("ul");
  if (ordered) {
    const n = parseInt(first[2], 10);
    if (n !== 1) list.setAttribute("start", String(n));
  }
  let i = start;
  while (i < lines.length) {
    const m = lines[i].match(LIST_ITEM);
    if (!m || m[1].length !== baseIndent || /\d/.test(m[2]) !== ordered) break;
    const body = [m[3]];
    const contentIndent = m[1].length + m[2].length + 1;
    i++;
    while (i < lines.length) {
      const l = lines[i];
      if (!l.trim()) {
        // A blank line continues the item only if the next line is indented into it.
        const nxt = lines[i + 1];
        if (nxt !== undefined && nxt.trim() && indentOf(nxt) >= contentIndent) { body.push(""); i++; continue; }
        break;
      }
      const sub = l.match(LIST_ITEM);
      if (sub && sub[1].length <= baseIndent) break;
      if (!sub && indentOf(l) < contentIndent && startsBlock(lines, i)) break;
      body.push(l.slice(Math.min(indentOf(l), contentIndent)));
      i++;
    }
    const li = h("li");
    const task = body[0].match(/^\[([ xX])\]\s+(.*)$/);
    if (task) {
      li.append(h("input", { type: "checkbox", checked: task[1] !== " ", disabled: true, "aria-label": "task" }), " ");
      body[0] = task[2];
    }
    const blocks = parseBlocks(body);
    // Tight items: unwrap a lone paragraph so lists stay compact.
    if (blocks.length && blocks[0].tagName === "P") {
      li.append(...blocks[0].childNodes);
      blocks.shift();
    }
    li.append(...blocks);
    list.append(li);
    // Skip one blank line between items of the same list.
    if (i < lines.length && !lines[i].trim() && i + 1 < lines.length) {
      const nm = lines[i + 1].match(LIST_ITEM);
      if (nm && nm[1].length === baseIndent) i++;
    }
  }
  return [list, i];
}

function indentOf(line) {
  const m = line.match(/^[ \t]*/);
  return m ? m[0].replace(/\t/g, "    ").length : 0;
}

function splitRow(row) {
  let r = row.trim();
  if (r.startsWith("|")) r = r.slice(1);
  if (r.endsWith("|") && !r.endsWith("\\|")) r = r.slice(0, -1);
  return r.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
}

function table(rows) {
  const head = splitRow(rows[0]);
  const thead = h("thead", null, h("tr", null, head.map((c) => h("th", null, parseInline(c)))));
  const tbody = h("tbody", null, rows.slice(1).map((r) => {
    const cells = splitRow(r);
    return h("tr", null, head.map((_, k) => h("td", null, parseInline(cells[k] ?? ""))));
  }));
  return h("div", { class: "md-table" }, h("table", null, thead, tbody));
}

function codeBlock(code, lang) {
  const copy = h("button", { type: "button", class: "ghost small", "aria-label": "Copy code" }, "Copy");
  copy.addEventListener("click", async () => {
    copy.textContent = (await copyText(code)) ? "Copied" : "Copy failed";
    setTimeout(() => { copy.textContent = "Copy"; }, 1400);
  });
  return h("div", { class: "code" },
    h("div", { class: "code-head" }, h("span", null, lang || "text"), copy),
    h("pre", null, h("code", { "data-lang": lang || undefined }, code)));
}

// ---- inline -------------------------------------------------------------------------------------

const INLINE = [
  { re: /\\([\\`*_{}\[\]()#+\-.!|~<>])/y, make: (m) => document.createTextNode(m[1]) },
  { re: /(`+)([\s\S]*?[^`])\1(?!`)/y, make: (m) => h("code", null, m[2].replace(/^ (.+) $/, "$1")) },
  { re: /!\[([^\]]*)\]\(\s*((?:[^()\s]|\([^()\s]*\))+)(?:\s+"[^"]*")?\s*\)/y, make: (m) => link(m[2], [document.createTextNode(`[image: ${m[1] || m[2]}]`)]) },
  { re: /\[([^\]]+)\]\(\s*((?:[^()\s]|\([^()\s]*\))+)(?:\s+"[^"]*")?\s*\)/y, make: (m) => link(m[2], parseInline(m[1])) },
  { re: /(\*\*|__)(?=\S)([\s\S]*?\S)\1/y, make: (m) => h("strong", null, parseInline(m[2])) },
  { re: /~~(?=\S)([\s\S]*?\S)~~/y, make: (m) => h("del", null, parseInline(m[1])) },
  { re: /\*(?=[^\s*])([\s\S]*?[^\s*])\*(?!\*)/y, make: (m) => h("em", null, parseInline(m[1])) },
  { re: /_(?=[^\s_])([\s\S]*?[^\s_])_(?![\w])/y, make: (m) => h("em", null, parseInline(m[1])), wordStart: true },
  { re: /<?(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'")\]])>?/y, make: (m) => link(m[1], [document.createTextNode(m[1])]) },
  { re: /\n/y, make: () => h("br") },
];

const SPECIAL = /[\\`!\[*_~h<\n]/g;

/** Parse inline markdown to an array of nodes. Plain text stays text, always. */
export function parseInline(text) {
  const nodes = [];
  let buf = "";
  let i = 0;
  const flush = () => { if (buf) { nodes.push(document.createTextNode(buf)); buf = ""; } };
  while (i < text.length) {
    SPECIAL.lastIndex = i;
    const found = SPECIAL.exec(text);
    if (!found) { buf += text.slice(i); break; }
    buf += text.slice(i, found.index);
    i = found.index;
    let matched = false;
    for (const rule of INLINE) {
      if (rule.wordStart && i > 0 && /\w/.test(text[i - 1])) continue;
      rule.re.lastIndex = i;
      const m = rule.re.exec(text);
      if (m && m[0].length) {
        flush();
        nodes.push(rule.make(m));
        i += m[0].length;
        matched = true;
        break;
      }
    }
    if (!matched) { buf += text[i]; i++; }
  }
  flush();
  return nodes;
}

/**
 * A link only when the URL is http(s) or mailto; anything else (javascript:, data:) is text. So is
 * a link into this app carrying a sign-in fragment (#token=, #login=): an answer, which anyone's
 * text can steer, must not offer a click that signs this browser in as someone else.
 */
function link(url, children) {
  let parsed = null;
  try { parsed = new URL(url, location.origin); } catch { parsed = null; }
  if (!parsed || !["http:", "https:", "mailto:"].includes(parsed.protocol) || !/^(https?:|mailto:)/i.test(url)
      || signsIntoThisApp(parsed)) {
    const span = h("span");
    span.append(...children);
    return span;
  }
  const a = h("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer nofollow" });
  a.append(...children);
  return a;
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
