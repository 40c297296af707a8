// Agent assist: the KB articles that best answer the open conversation, each
// with a button that inserts its answer into the reply box (editable before
// sending).  Rendering uses textContent only (console-render.js's el()).

import { api } from "./console-api.js";
import { el } from "./console-render.js";

const $ = (selector) => document.querySelector(selector);
let seq = 0;

function status(text) {
  const box = $("#assist-status");
  box.textContent = text || "";
  box.hidden = !text;
}

export function insertIntoReply(text) {
  const field = $("#reply-text");
  const current = field.value.trim();
  field.value = current ? `${current}\n\n${text}` : text;
  field.focus();
  field.setSelectionRange(field.value.length, field.value.length);
}

function item(suggestion) {
  const li = el("li", { class: "assist-item", "data-article-id": suggestion.article_id });
  const head = el("div", { class: "assist-head" });
  head.append(
    el("span", { class: "assist-title" }, suggestion.title),
    el("span", { class: "assist-confidence" }, `${Math.round(suggestion.confidence * 100)} %`),
  );
  const insert = el("button", { type: "button", class: "assist-insert secondary" }, "Insert");
  insert.title = "Put this answer in the reply box";
  insert.addEventListener("click", () => insertIntoReply(suggestion.answer));
  li.append(head, insert, el("div", { class: "assist-snippet" }, suggestion.snippet));
  return li;
}

export function clearAssist() {
  seq++;
  $("#assist-list").replaceChildren();
  status("");
}

export async function loadAssist(conversationId) {
  const mine = ++seq;
  status("Looking for articles…");
  try {
    const data = await api("GET", `/api/conversations/${Number(conversationId)}/suggestions?k=3`);
    if (mine !== seq) return;
    $("#assist-list").replaceChildren(...data.suggestions.map(item));
    if (data.available === false) status("No knowledge base on this server.");
    else if (!data.questions.length) status("No customer question to search for yet.");
    else if (!data.suggestions.length) status("No article matches these questions.");
    else status("");
  } catch (error) {
    if (mine === seq) status(`Suggestions unavailable: ${error.message}`);
  }
}
