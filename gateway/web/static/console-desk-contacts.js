// The open ticket's contact log and tags, and the queue's tag filter (issue 9).
//
// - Log a contact: a phone call by hand (direction, duration, note) or a contact on the
//   ticket's own channel, with its outcome.  The server adds a line to the ticket's
//   timeline (it arrives in the conversation live) and records it in its history.
// - Tags: free words, normalised by the server; the field suggests the tags in use.
// - The queue's tag filter (?tag=...) in the desk's bar.
// Everything is built here, inside the desk's tools: console.js only calls
// setupDeskExtras() once and showTicketExtras(ticket) / clearTicketExtras().

import { api } from "./console-api.js";
import { deskOn, setTagFilter } from "./console-desk.js";
import { change, fillList, notice, showError } from "./console-desk-tools.js";
import { el } from "./console-render.js";
import { channelText, deskText } from "./console-words.js";

const $ = (selector) => document.querySelector(selector);
const OUTCOMES = ["information", "resolved", "escalated", "callback"];

const state = { id: null, seq: 0, suggestTimer: null };

function path(suffix) {
  return `/api/desk/tickets/${Number(state.id)}${suffix}`;
}

function field(label, id, control) {
  return [el("label", { for: id }, deskText(label)), control];
}

function select(id, items) {
  const node = el("select", { id });
  node.append(...items.map(([value, key]) => el("option", { value }, deskText(key))));
  return node;
}

// ------------------------------------------------------------------ building

function buildContactForm() {
  const box = el("fieldset", { class: "desk-appointment desk-contact", id: "contact-box" });
  box.append(el("legend", {}, deskText("contact_title")));
  const form = el("div", { class: "desk-form" });
  const kind = select("contact-channel", [["phone", "contact_phone"], ["conversation", "contact_conversation"]]);
  const direction = select("contact-direction", [["in", "dir_in"], ["out", "dir_out"]]);
  const minutes = el("input", { id: "contact-minutes", type: "number", min: "0", max: "1440", step: "any",
    inputmode: "decimal" });
  const outcome = select("contact-outcome", OUTCOMES.map((o) => [o, `oc_${o}`]));
  const note = el("input", { id: "contact-note", maxlength: "2000" });
  const button = el("button", { type: "button", id: "contact-log" }, deskText("contact_log"));
  const row = (node) => {
    const div = el("div", { class: "desk-row" });
    div.append(node);
    return div;
  };
  const last = row(note);
  last.append(button);
  form.append(
    ...field("contact_channel", "contact-channel", row(kind)),
    ...field("contact_direction", "contact-direction", row(direction)),
    ...field("contact_duration", "contact-minutes", row(minutes)),
    ...field("contact_outcome", "contact-outcome", row(outcome)),
    ...field("contact_note", "contact-note", last),
  );
  kind.addEventListener("change", () => {
    const phone = kind.value === "phone";
    minutes.disabled = !phone;
  });
  button.addEventListener("click", () => change(button, "failed_contact", logContact));
  box.append(form, el("ul", { id: "contact-list", class: "appt-list" }));
  return box;
}

function buildTags() {
  const box = el("div", { class: "desk-form desk-tags" });
  const input = el("input", { id: "tag-input", maxlength: "40", list: "tag-suggestions", autocomplete: "off" });
  const button = el("button", { type: "button", id: "tag-add", class: "secondary" }, deskText("tags_add"));
  const row = el("div", { class: "desk-row" });
  row.append(input, el("datalist", { id: "tag-suggestions" }), button,
    el("span", { id: "tag-list", class: "tag-list" }));
  box.append(el("label", { for: "tag-input" }, deskText("tags_label")), row);
  input.addEventListener("input", () => suggest(input.value, "#tag-suggestions"));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      button.click();
    }
  });
  button.addEventListener("click", () => change(button, "failed_tags", async () => {
    const tag = input.value.trim();
    if (!tag) {
      input.focus();
      throw new Error(deskText("need_tag"));
    }
    const data = await api("POST", path("/tags"), { add: [tag] });
    input.value = "";
    renderTags(data.tags);
  }));
  return box;
}

function buildTagFilter() {
  const form = el("form", { id: "desk-tag-filter", class: "desk-search", role: "search" });
  const input = el("input", { id: "desk-tag", type: "search", maxlength: "40", list: "desk-tag-options",
    autocomplete: "off", placeholder: deskText("tag_filter_placeholder") });
  form.append(
    el("label", { for: "desk-tag", class: "visually-hidden" }, deskText("tag_filter_label")),
    input,
    el("datalist", { id: "desk-tag-options" }),
    el("button", { type: "submit", class: "secondary" }, deskText("tag_filter_apply")),
  );
  input.addEventListener("input", () => suggest(input.value, "#desk-tag-options"));
  input.addEventListener("search", () => {
    if (!input.value) setTagFilter("");
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setTagFilter(input.value.trim());
  });
  return form;
}

// ------------------------------------------------------------------ rendering

function suggest(prefix, listSelector) {
  clearTimeout(state.suggestTimer);
  state.suggestTimer = setTimeout(async () => {
    try {
      const data = await api("GET", `/api/desk/tags?q=${encodeURIComponent(prefix.trim())}`);
      $(listSelector).replaceChildren(...data.tags.map((t) => el("option", { value: t.tag })));
    } catch {
      // suggestions are a help; typing still works
    }
  }, 150);
}

function renderTags(tags) {
  fillList($("#tag-list"), tags, (tag) => {
    const chip = el("span", { class: "tag", "data-tag": tag }, tag);
    const remove = el("button", { type: "button", class: "link tag-remove",
      "aria-label": deskText("tag_remove", { tag }) }, "×");
    remove.addEventListener("click", () => change(remove, "failed_tags", async () => {
      const data = await api("POST", path("/tags"), { remove: [tag] });
      renderTags(data.tags);
    }));
    chip.append(" ", remove);
    return chip;
  }, "tags_none", "span");
}

function contactText(c) {
  const what = c.channel === "phone"
    ? deskText(c.direction === "in" ? "contact_call_in" : "contact_call_out")
    : deskText("contact_on", { channel: channelText(c.channel) });
  const minutes = c.duration_seconds != null ? ` · ${Math.round(c.duration_seconds / 60)} min` : "";
  const by = c.actor ? ` · ${deskText("contact_by", { name: c.actor })}` : "";
  return `${deskText(`oc_${c.outcome}`)} · ${what}${minutes} · ${new Date(Date.parse(c.at)).toLocaleString()}${by}`;
}

function renderContacts(items) {
  fillList($("#contact-list"), items, (c) => {
    const li = el("li", { class: `contact contact-${c.outcome}`, "data-contact-id": c.id });
    li.append(el("span", { class: "contact-what" }, contactText(c)));
    if (c.note) li.append(el("span", { class: "appt-note" }, c.note));
    return li;
  }, "contact_none");
}

async function logContact() {
  const phone = $("#contact-channel").value === "phone";
  const raw = $("#contact-minutes").value.trim();
  const minutes = raw === "" ? null : Number(raw);
  if (phone && minutes !== null && (!Number.isFinite(minutes) || minutes < 0)) {
    $("#contact-minutes").focus();
    throw new Error(deskText("need_duration"));
  }
  const body = {
    channel: phone ? "phone" : "conversation",
    direction: $("#contact-direction").value,
    outcome: $("#contact-outcome").value,
    note: $("#contact-note").value.trim(),
  };
  if (phone && minutes !== null) body.duration_seconds = Math.round(minutes * 60);
  await api("POST", path("/contacts"), body);
  $("#contact-note").value = "";
  $("#contact-minutes").value = "";
  await reload();
  notice(deskText("done_contact"));
}

async function reload() {
  if (!state.id) return;
  const seq = state.seq;
  const [contacts, tags] = await Promise.all([api("GET", path("/contacts")), api("GET", path("/tags"))]);
  if (seq !== state.seq) return;
  renderContacts(contacts.contacts);
  renderTags(tags.tags);
}

// ------------------------------------------------------------------ entry points

/** A ticket was opened in the console. */
export function showTicketExtras(ticket) {
  if (!deskOn() || !$("#contact-box")) return;
  state.seq++;
  state.id = ticket.id;
  reload().catch((error) => showError(error.message));
}

export function clearTicketExtras() {
  state.seq++;
  state.id = null;
}

/** A live change of the open ticket: its tags or contacts may have changed. */
export function ticketExtrasChanged(ticketId) {
  if (state.id && ticketId === state.id) reload().catch(() => {});
}

export function setupDeskExtras() {
  if (!deskOn()) return;
  const body = $(".desk-tools-body");
  const notes = $("#desk-notice");
  if (body && notes) {
    notes.before(buildTags(), buildContactForm());
  }
  const bar = $(".desk-bar");
  if (bar) bar.append(buildTagFilter());
}
