// Agent assist: the KB articles that best answer the open conversation, each
// with a button that inserts its answer into the reply box (editable before
// sending).  One article's translations are one suggestion: the article in the
// customer's language first (its Insert), the other languages as their own Insert
// buttons.  Rendering uses textContent only (console-render.js's el()).

import { api } from "./console-api.js";
import { el } from "./console-render.js";

const $ = (selector) => document.querySelector(selector);
const LANGUAGES = { en: "English", fr: "French" };
let seq = 0;

const languageName = (code) => LANGUAGES[code] || (code ? code.toUpperCase() : "");

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
  const title = el("span", { class: "assist-title" }, suggestion.title);
  if (suggestion.lang) title.setAttribute("lang", suggestion.lang);
  head.append(title);
  if (suggestion.lang) {
    head.append(el("span", { class: "assist-lang", title: languageName(suggestion.lang) },
      suggestion.lang.toUpperCase()));
  }
  head.append(el("span", { class: "assist-confidence" }, `${Math.round(suggestion.confidence * 100)} %`));
  const insert = el("button", { type: "button", class: "assist-insert secondary" }, "Insert");
  insert.title = "Put this answer in the reply box";
  insert.addEventListener("click", () => insertIntoReply(suggestion.answer));
  const snippet = el("div", { class: "assist-snippet" }, suggestion.snippet);
  if (suggestion.lang) snippet.setAttribute("lang", suggestion.lang);
  li.append(head, insert, snippet);
  const translations = suggestion.translations || [];
  if (translations.length) {
    const others = el("div", { class: "assist-translations" }, "Also in: ");
    for (const other of translations) {
      const button = el("button", {
        type: "button", class: "assist-insert-translation secondary", "data-article-id": other.article_id,
        "data-lang": other.lang,
      }, languageName(other.lang));
      button.title = `Insert the ${languageName(other.lang)} version: ${other.title}`;
      button.addEventListener("click", () => insertIntoReply(other.answer));
      others.append(button);
    }
    li.append(others);
  }
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
