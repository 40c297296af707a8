/* Guichet's Markdown: a small subset, rendered safely, for the console and the widget.
 *
 *   GuichetMarkdown.render(text)   -> DocumentFragment: paragraphs, line breaks,
 *                                     **bold** / __bold__, *italic* / _italic_, `code`,
 *                                     ``` code blocks ```, "- " / "* " / "1. " lists,
 *                                     "# " headings (shown as a bold line),
 *                                     [links](https://…) and bare http(s) links.
 *   GuichetMarkdown.plain(text)    -> DocumentFragment: the text as written (line
 *                                     breaks kept) with bare http(s) links clickable.
 *
 * Nothing is ever parsed as HTML: every piece of text goes into the DOM with
 * createTextNode, every element is one of a fixed list built with createElement, and
 * a link's href is set only for http:, https: and mailto: URLs (anything else, such as
 * javascript: or data:, stays plain text).  A classic script (no export) so that the
 * widget can carry it and the console can load it; it defines window.GuichetMarkdown.
 * No regular-expression lookbehind: the widget runs on older phone browsers too.
 */
(function (root) {
  "use strict";
  if (root.GuichetMarkdown) return;

  const SAFE_URL = /^(https?:\/\/[^\s]+|mailto:[^\s]+)$/i;
  const BARE_URL = /^https?:\/\/[^\s<>"'`]+/i;
  const TRAILING = /[.,;:!?)\]]+$/;
  const ESCAPABLE = "\\`*_[]()#+-.!>~|{}";
  const LINK = /^\[([^\]\n]{1,500})\]\(\s*<?([^\s<>()]{1,2000})>?\s*\)/;
  const BULLET = /^\s{0,3}[-*+•]\s+(.*)$/;
  const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
  const HEADING = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
  const FENCE = /^\s{0,3}(```|~~~)/;

  function el(tag, text) {
    const node = document.createElement(tag);
    if (text != null) node.appendChild(document.createTextNode(text));
    return node;
  }

  /** An <a> for a safe URL, or null. */
  function link(url, label) {
    if (!SAFE_URL.test(url)) return null;
    const a = el("a");
    a.setAttribute("href", url);
    a.setAttribute("target", "_blank");
    a.setAttribute("rel", "noopener noreferrer nofollow");
    a.appendChild(document.createTextNode(label));
    return a;
  }

  /** Plain text with bare http(s) URLs turned into links. */
  function appendLinked(parent, text) {
    let rest = text;
    for (;;) {
      const at = rest.search(/https?:\/\//i);
      if (at < 0) break;
      const match = BARE_URL.exec(rest.slice(at));
      const url = match ? match[0].replace(TRAILING, "") : "";
      if (!url || url.length < 9) { // "http://" and nothing usable after it
        parent.appendChild(document.createTextNode(rest.slice(0, at + 4)));
        rest = rest.slice(at + 4);
        continue;
      }
      if (at > 0) parent.appendChild(document.createTextNode(rest.slice(0, at)));
      parent.appendChild(link(url, url) || document.createTextNode(url));
      rest = rest.slice(at + url.length);
    }
    if (rest) parent.appendChild(document.createTextNode(rest));
  }

  const isSpace = (c) => c === undefined || /\s/.test(c);
  const isWord = (c) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

  /** Where the emphasis opened at `start` with `marker` closes, or -1. */
  function closing(text, start, marker) {
    let from = start + 1; // at least one character inside
    for (;;) {
      const end = text.indexOf(marker, from);
      if (end < 0) return -1;
      const before = text[end - 1];
      const after = text[end + marker.length];
      const okAfter = marker[0] === "_" ? !isWord(after) : true;
      // "**" inside a single-"*" span is not its end
      const doubled = marker.length === 1 && (after === marker || before === marker);
      if (!isSpace(before) && okAfter && !doubled && before !== "\\") return end;
      from = end + marker.length;
    }
  }

  /** Inline Markdown of one line (or one list item) into `parent`. */
  function inline(parent, text, depth) {
    let buffer = "";
    const flush = () => {
      if (buffer) appendLinked(parent, buffer);
      buffer = "";
    };
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === "\\" && ESCAPABLE.indexOf(text[i + 1]) >= 0 && i + 1 < text.length) {
        buffer += text[i + 1];
        i += 2;
        continue;
      }
      if (c === "`") {
        const end = text.indexOf("`", i + 1);
        if (end > i + 1) {
          flush();
          parent.appendChild(el("code", text.slice(i + 1, end)));
          i = end + 1;
          continue;
        }
      }
      if ((c === "h" || c === "H") && /^https?:\/\//i.test(text.slice(i, i + 8))) {
        const match = BARE_URL.exec(text.slice(i));
        const url = match ? match[0].replace(TRAILING, "") : "";
        if (url.length > 8) {
          flush();
          parent.appendChild(link(url, url) || document.createTextNode(url));
          i += url.length;
          continue;
        }
      }
      if (c === "[") {
        const match = LINK.exec(text.slice(i));
        if (match) {
          flush();
          const a = link(match[2], match[1]);
          parent.appendChild(a || document.createTextNode(match[1])); // unsafe URL: label only
          i += match[0].length;
          continue;
        }
      }
      if ((c === "*" || c === "_") && depth < 4) {
        const marker = text[i + 1] === c ? c + c : c;
        const start = i + marker.length;
        const opens = !isSpace(text[start]) && !(c === "_" && isWord(text[i - 1]));
        const end = opens ? closing(text, start, marker) : -1;
        if (end > start) {
          flush();
          const node = el(marker.length === 2 ? "strong" : "em");
          inline(node, text.slice(start, end), depth + 1);
          parent.appendChild(node);
          i = end + marker.length;
          continue;
        }
        buffer += marker; // not emphasis: the characters as written
        i += marker.length;
        continue;
      }
      buffer += c;
      i += 1;
    }
    flush();
  }

  function lines(text) {
    return String(text == null ? "" : text).replace(/\r\n?/g, "\n").split("\n");
  }

  /** The Markdown subset to a DocumentFragment (see the top of this file). */
  function render(text) {
    const out = document.createDocumentFragment();
    const all = lines(text);
    let paragraph = null;
    let list = null;
    let item = null;
    const endBlocks = () => { paragraph = null; list = null; item = null; };
    for (let n = 0; n < all.length; n++) {
      const line = all[n];
      if (FENCE.test(line)) { // code block: verbatim up to the closing fence
        endBlocks();
        const fence = FENCE.exec(line)[1];
        const body = [];
        n += 1;
        while (n < all.length && all[n].trim().indexOf(fence) !== 0) body.push(all[n++]);
        const pre = el("pre");
        pre.appendChild(el("code", body.join("\n")));
        out.appendChild(pre);
        continue;
      }
      if (!line.trim()) { endBlocks(); continue; }
      const bullet = BULLET.exec(line);
      const numbered = bullet ? null : NUMBERED.exec(line);
      if (bullet || numbered) {
        const tag = bullet ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== tag) {
          paragraph = null;
          list = el(tag);
          if (numbered && numbered[1] !== "1") list.setAttribute("start", String(Number(numbered[1])));
          out.appendChild(list);
        }
        item = el("li");
        inline(item, bullet ? bullet[1] : numbered[2], 0);
        list.appendChild(item);
        continue;
      }
      if (item && /^\s/.test(line)) { // an indented line continues the list item
        item.appendChild(el("br"));
        inline(item, line.trim(), 0);
        continue;
      }
      const heading = HEADING.exec(line);
      if (heading) {
        endBlocks();
        const p = el("p");
        p.className = "md-heading";
        const strong = el("strong");
        inline(strong, heading[1], 1);
        p.appendChild(strong);
        out.appendChild(p);
        continue;
      }
      list = null;
      item = null;
      if (paragraph) paragraph.appendChild(el("br"));
      else {
        paragraph = el("p");
        out.appendChild(paragraph);
      }
      inline(paragraph, line, 0);
    }
    return out;
  }

  /** The text as written, line breaks kept, bare links clickable. */
  function plain(text) {
    const out = document.createDocumentFragment();
    lines(text).forEach((line, n) => {
      if (n > 0) out.appendChild(el("br"));
      appendLinked(out, line);
    });
    return out;
  }

  root.GuichetMarkdown = Object.freeze({ render: render, plain: plain });
})(typeof globalThis !== "undefined" ? globalThis : window);
