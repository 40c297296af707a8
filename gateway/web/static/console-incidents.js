// Incidents for supervisors (issue 9): a burst of similar tickets raises an alert
// ("incident.raised": a reminder in the page, and a desktop notification when the
// browser allows them); the queue's Incidents panel lists the open incidents with
// their tickets, where a supervisor ticks suggested tickets to link them, sends one
// status message to every linked customer (each gets it once: the server says who
// already had it) and closes the incident.  Operators see nothing of it here.

import { api } from "./console-api.js";
import { deskOn } from "./console-desk.js";
import { el, word } from "./console-render.js";
import { deskText } from "./console-words.js";

const $ = (selector) => document.querySelector(selector);
const MANAGERS = ["supervisor", "admin"];

// The panel is drawn again on every incident event: what the supervisor typed, ticked
// and was told survives it.
const state = { on: false, open: () => {}, timer: null, seq: 0, drafts: new Map(), ticked: new Set(),
  notes: new Map() };

function setNotice(box, text, error = false) {
  box.textContent = text || "";
  box.hidden = !text;
  box.classList.toggle("form-error", error);
}

async function run(button, notice, action, incidentId = null) {
  button.disabled = true;
  setNotice(notice, "");
  if (incidentId !== null) state.notes.delete(incidentId);
  try {
    await action();
  } catch (error) {
    const text = `${deskText("failed_incident")} ${error.message}`;
    if (incidentId !== null) state.notes.set(incidentId, { text, error: true });
    setNotice(document.querySelector(`.incident[data-incident-id="${Number(incidentId)}"] .inc-notice`)
      || notice, text, true);
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ the panel

function ticketItem(incidentId, t) {
  const li = el("li", { class: `inc-ticket inc-${word(t.state)}`, "data-ticket-id": t.ticket_id });
  const id = `inc-${Number(incidentId)}-t-${Number(t.ticket_id)}`;
  const box = el("input", { type: "checkbox", id, value: t.ticket_id });
  if (t.state === "linked") {
    box.checked = true;
    box.disabled = true;
  } else {
    box.checked = state.ticked.has(id);
    box.addEventListener("change", () => {
      if (box.checked) state.ticked.add(id);
      else state.ticked.delete(id);
    });
  }
  const label = el("label", { for: id, class: "inc-ticket-label" });
  label.append(el("span", { class: "visually-hidden" }, deskText("inc_pick", { number: t.number })));
  const open = el("a", { href: `/console/tickets/${Number(t.ticket_id)}` }, t.number || `#${t.ticket_id}`);
  open.addEventListener("click", (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    state.open(Number(t.ticket_id));
  });
  const where = t.announced_at ? deskText("inc_sent") : deskText(`inc_${t.state}`);
  const text = el("span", { class: "inc-ticket-text" });
  text.append(open, ` ${t.subject || ""} · ${t.customer_name || ""} · `, el("span", { class: "inc-state" }, where));
  li.append(box, label, text);
  return li;
}

function incidentNode(detail) {
  const inc = detail.incident;
  const node = el("article", { class: "incident", "data-incident-id": inc.id });
  node.append(el("h4", { class: "incident-title" }, `#${inc.id} ${inc.title}`));
  node.append(el("p", { class: "hint incident-counts" },
    deskText("inc_tickets", { linked: inc.linked, suggested: inc.suggested })));
  const list = el("ul", { class: "inc-tickets" });
  list.append(...detail.tickets.map((t) => ticketItem(inc.id, t)));
  const notice = el("p", { class: "notice inc-notice", role: "status", hidden: "" });
  const note = state.notes.get(inc.id);
  if (note) setNotice(notice, note.text, note.error);
  const link = el("button", { type: "button", class: "secondary inc-link" }, deskText("inc_link"));
  link.addEventListener("click", () => run(link, notice, async () => {
    const ids = [...list.querySelectorAll("input:checked:not(:disabled)")].map((b) => Number(b.value));
    if (!ids.length) throw new Error(deskText("need_pick"));
    await api("POST", `/api/desk/incidents/${Number(inc.id)}/link`, { ticket_ids: ids });
    flash(inc.id, deskText("inc_done_linked"));
    await load();
  }, inc.id));
  const textId = `inc-${Number(inc.id)}-text`;
  const text = el("textarea", { id: textId, class: "inc-text", rows: "3", maxlength: "10000" });
  text.value = state.drafts.get(inc.id) ?? inc.status_message ?? "";
  text.addEventListener("input", () => state.drafts.set(inc.id, text.value));
  const send = el("button", { type: "button", class: "inc-announce" }, deskText("inc_announce"));
  send.addEventListener("click", () => run(send, notice, async () => {
    const words = text.value.trim();
    if (!words) {
      text.focus();
      throw new Error(deskText("need_message"));
    }
    const result = await api("POST", `/api/desk/incidents/${Number(inc.id)}/announce`, { text: words });
    state.drafts.delete(inc.id);
    flash(inc.id, deskText("inc_done_sent", {
      n: result.sent.length, already: result.already.length, skipped: result.skipped.length,
    }));
    await load();
  }, inc.id));
  const close = el("button", { type: "button", class: "secondary inc-close" }, deskText("inc_close"));
  close.addEventListener("click", () => run(close, notice, async () => {
    await api("POST", `/api/desk/incidents/${Number(inc.id)}/close`);
    await load();
    setNotice($("#incidents-notice"), deskText("inc_done_closed"));
  }, inc.id));
  const actions = el("div", { class: "desk-row inc-actions" });
  actions.append(link, close);
  node.append(list, actions, el("label", { for: textId }, deskText("inc_message")), text, send, notice);
  return node;
}

function flash(incidentId, text) {
  state.notes.set(incidentId, { text, error: false });
  const box = document.querySelector(`.incident[data-incident-id="${Number(incidentId)}"] .inc-notice`);
  if (box) setNotice(box, text);
}

async function load() {
  const seq = ++state.seq;
  const { incidents } = await api("GET", "/api/desk/incidents?status=open");
  const details = await Promise.all(incidents.map((i) => api("GET", `/api/desk/incidents/${Number(i.id)}`)));
  if (seq !== state.seq) return;
  $("#incidents-summary").textContent = deskText("inc_summary", { n: incidents.length });
  const list = $("#incidents-list");
  if (!details.length) list.replaceChildren(el("p", { class: "hint" }, deskText("inc_none")));
  else list.replaceChildren(...details.map(incidentNode));
}

function buildPanel() {
  const panel = el("details", { id: "incidents", class: "desk-tools incidents" });
  const summary = el("summary", { id: "incidents-summary" }, deskText("inc_title"));
  const scan = el("button", { type: "button", class: "secondary", id: "incidents-scan" }, deskText("inc_scan"));
  const notice = el("p", { id: "incidents-notice", class: "notice", role: "status", hidden: "" });
  scan.addEventListener("click", () => run(scan, notice, async () => {
    await api("POST", "/api/desk/incidents/scan");
    await load();
  }));
  const body = el("div", { class: "desk-tools-body" });
  body.append(el("div", { id: "incidents-list" }), scan, notice);
  panel.append(summary, body);
  return panel;
}

// ------------------------------------------------------------------ alerts

function alert(data) {
  const box = $("#desk-toasts");
  const title = deskText("inc_raised", { n: data.tickets, title: data.title });
  if (box) {
    const item = el("div", { class: "toast toast-incident", "data-kind": "incident.raised",
      "data-incident-id": data.incident_id });
    item.append(el("p", { class: "toast-title" }, title));
    const actions = el("div", { class: "toast-actions" });
    const show = el("button", { type: "button", class: "toast-open" }, deskText("inc_show"));
    show.addEventListener("click", () => {
      item.remove();
      const panel = $("#incidents");
      panel.open = true;
      panel.scrollIntoView({ block: "nearest" });
      panel.querySelector("summary").focus();
    });
    const dismiss = el("button", { type: "button", class: "secondary toast-dismiss" }, deskText("toast_dismiss"));
    dismiss.addEventListener("click", () => item.remove());
    actions.append(show, dismiss);
    item.append(actions);
    box.append(item);
  }
  if (typeof window.Notification === "function" && window.Notification.permission === "granted") {
    try {
      new window.Notification(title, { tag: `incident-${Number(data.incident_id)}` });
    } catch {
      // only the page's reminder then
    }
  }
}

/** Live events: "incident.raised" alerts; any incident event (or a ticket change)
 * refreshes the panel shortly after. */
export function onIncidentEvent(event) {
  if (!state.on) return;
  const data = event.data || {};
  if (event.type === "incident.raised" && (!data.for_roles || data.for_roles.length)) alert(data);
  if (event.type.startsWith("incident.") || event.type === "hello") {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => load().catch(() => {}), 250);
  }
}

export async function setupIncidents({ open }) {
  state.open = open;
  if (!deskOn()) return;
  try {
    const { user } = await api("GET", "/api/me");
    if (!MANAGERS.includes(user.role)) return;
  } catch {
    return;
  }
  const bar = $(".desk-bar");
  if (!bar) return;
  bar.after(buildPanel());
  state.on = true;
  await load().catch(() => {});
}
