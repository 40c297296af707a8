// What the desk's ticket tools share (console-desk-ticket.js, console-desk-contacts.js):
// the tools' notice and error boxes, running a change from a button so that a failure
// says what did not happen and why, and filling a list (or saying it is empty).

import { el } from "./console-render.js";
import { deskText } from "./console-words.js";

const $ = (selector) => document.querySelector(selector);

/** The tools' notice ("Saved." ...); empty hides it. */
export function notice(text) {
  const box = $("#desk-notice");
  if (!box) return;
  box.textContent = text || "";
  box.hidden = !text;
}

export function showError(message) {
  const box = $("#action-error");
  box.textContent = message;
  box.hidden = false;
}

/** Run a change; a failure says what did not happen (``failedKey``) and why. */
export async function change(button, failedKey, action) {
  button.disabled = true;
  $("#action-error").hidden = true;
  notice("");
  try {
    await action();
  } catch (error) {
    showError(`${deskText(failedKey)} ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

/** One node per item (``build``), or a hint (``noneKey``) in a ``hintTag`` when there is none. */
export function fillList(list, items, build, noneKey, hintTag = "li") {
  if (!items.length) {
    list.replaceChildren(el(hintTag, { class: "hint" }, deskText(noneKey)));
    return;
  }
  list.replaceChildren(...items.map(build));
}
