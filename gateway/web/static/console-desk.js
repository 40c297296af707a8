// The queue's views of the ticket desk (/api/desk/tickets?view=...): mine, unassigned,
// my queues, all open, pending, SLA breached or at risk, resolved; a search over
// numbers, subjects, customers and messages; rows with priority, state and a live SLA
// countdown; the in-console reminders (callbacks due, tickets given to me, breaches).
//
// console.js keeps the rows and the keyboard; it asks this module which tickets a view
// holds (fetchQueue), how to order and draw them (orderTickets, deskRow) and whether a
// live event changes the view (keepTicket).  Without the desk API (a console built
// without it: <meta name="desk-api"> empty) the queue stays the new + open list.

import { api } from "./console-api.js";
import { el, ticketRow, word } from "./console-render.js";
import * as sla from "./console-sla.js";
import {
  applyDeskWords,
  deskLang,
  deskLanguages,
  deskStatusText,
  deskText,
  setDeskLang,
} from "./console-words.js";

const $ = (selector) => document.querySelector(selector);
const VIEW_KEY = "guichet.console.view";
const VIEWS = ["mine", "unassigned", "my_queues", "open", "pending", "at_risk", "resolved"];
const LANG_NAMES = { en: "English", fr: "Français" };

/** The desk's language when it differs from the page's (for ``lang`` attributes). */
const otherLang = () => (deskLang() === (document.documentElement.lang || "en") ? null : deskLang());

export const deskOn = () => Boolean(document.querySelector('meta[name="desk-api"]')?.content);

const desk = {
  view: "open",
  q: "",
  tag: "", // the tag filter (console-desk-contacts.js)
  order: new Map(), // ticket id -> position in the server's order
  refreshTimer: null,
  reload: async () => {},
  open: () => {},
  me: 0,
  policies: Promise.resolve(),
};

function storedView() {
  try {
    const view = localStorage.getItem(VIEW_KEY);
    return VIEWS.includes(view) ? view : "open";
  } catch {
    return "open";
  }
}

// ----------------------------------------------------------------- the list

function query() {
  const params = new URLSearchParams();
  const atRisk = desk.view === "at_risk";
  params.set("view", atRisk ? "open" : desk.view);
  params.set("sort", atRisk ? "sla_due" : desk.view === "resolved" ? "updated" : "priority");
  params.set("limit", atRisk ? "500" : "200");
  if (desk.q) params.set("q", desk.q);
  if (desk.tag) params.set("tag", desk.tag);
  return params.toString();
}

/** The tickets of the current view, in the server's order. */
export async function fetchQueue() {
  if (!deskOn()) {
    const { tickets } = await api("GET", "/api/tickets?status=new,open");
    desk.order = new Map();
    return tickets;
  }
  await desk.policies; // the "at risk" state needs them
  const data = await api("GET", `/api/desk/tickets?${query()}`);
  sla.setServerNow(data.now);
  let tickets = data.tickets;
  if (desk.view === "at_risk") tickets = tickets.filter((t) => ["breached", "risk"].includes(sla.rowState(t)));
  desk.order = new Map(tickets.map((t, i) => [t.id, i]));
  return tickets;
}

/** The view's order: the server's; tickets it has not listed yet (a live event) last. */
export function orderTickets(tickets) {
  const byCreated = (a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id - b.id);
  if (!deskOn()) return tickets.sort(byCreated);
  const at = (t) => (desk.order.has(t.id) ? desk.order.get(t.id) : Number.MAX_SAFE_INTEGER);
  return tickets.sort((a, b) => at(a) - at(b) || byCreated(a, b));
}

/** A live ticket event: the ticket as the list should now hold it (merged with what
 * the desk listed: events carry no SLA columns), or null to drop it.  The view is
 * fetched again shortly after (a change may move a ticket in or out of it). */
export function keepTicket(ticket, old) {
  if (!deskOn()) return ["new", "open"].includes(ticket.status) ? ticket : null;
  scheduleRefresh();
  if (!old) return null; // the refresh adds it if the view holds it
  const merged = { ...old, ...ticket };
  if (old.priority !== ticket.priority || old.queue !== ticket.queue) {
    for (const key of ["sla_due", "first_response_due", "next_response_due", "resolution_due"]) {
      if (!(key in ticket)) merged[key] = old[key]; // until the refresh brings the new ones
    }
  }
  return merged;
}

export function scheduleRefresh() {
  clearTimeout(desk.refreshTimer);
  desk.refreshTimer = setTimeout(() => {
    desk.reload().catch(() => {});
  }, 250);
}

/** A queue row: the console's row with priority, state and the SLA countdown. */
export function deskRow(ticket, options) {
  const row = ticketRow(ticket, options);
  if (!deskOn()) return row;
  const priority = el("td", { class: "col-priority" });
  priority.append(el("span", { class: `prio prio-${word(ticket.priority)}` }, ticket.priority || "—"));
  row.children[0].after(priority);
  const subject = row.querySelector(".col-subject");
  if (subject && ticket.customer_name) {
    subject.append(el("span", { class: "row-customer" }, ticket.customer_name));
  }
  if (subject && ticket.tags?.length) subject.append(el("span", { class: "row-tags" }, ticket.tags.join(" · ")));
  const lang = otherLang();
  const state = el("td", { class: `col-state state-${word(ticket.status)}`, lang }, deskStatusText(ticket.status));
  const clock = el("td", { class: "col-sla", lang });
  clock.append(sla.countdown(sla.rowClock(ticket)));
  row.append(state, clock);
  row.dataset.priority = ticket.priority || "";
  row.dataset.queue = ticket.queue || "";
  return row;
}

/** Only the tickets with this tag ("" for all). */
export function setTagFilter(tag) {
  desk.tag = tag;
  desk.reload().catch(() => {});
}

// ------------------------------------------------------------ toolbar

function renderViews() {
  for (const button of document.querySelectorAll("#desk-views .desk-view")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === desk.view));
  }
}

async function chooseView(view) {
  desk.view = view;
  try {
    localStorage.setItem(VIEW_KEY, view);
  } catch {
    // private mode
  }
  renderViews();
  await desk.reload();
}

function setupToolbar() {
  for (const button of document.querySelectorAll("#desk-views .desk-view")) {
    button.addEventListener("click", () => chooseView(button.dataset.view).catch(() => {}));
  }
  $("#desk-search").addEventListener("submit", (event) => {
    event.preventDefault();
    desk.q = $("#desk-q").value.trim();
    desk.reload().catch(() => {});
  });
  $("#desk-q").addEventListener("search", () => { // the field's own clear button
    if (!$("#desk-q").value && desk.q) {
      desk.q = "";
      desk.reload().catch(() => {});
    }
  });
  renderViews();
}

function setupLanguage() {
  const pick = $("#console-lang");
  if (!pick) return;
  pick.replaceChildren(...deskLanguages().map((lang) => el("option", { value: lang }, LANG_NAMES[lang] || lang)));
  pick.value = deskLang();
  pick.addEventListener("change", () => {
    setDeskLang(pick.value);
    location.reload();
  });
}

// ------------------------------------------------------------ reminders

/** A reminder in the page (besides the desktop notification, which needs a
 * permission): stays until dismissed; its button opens the ticket. */
export function toast(title, body, ticketId, number, kind) {
  const box = $("#desk-toasts");
  if (!box) return null;
  const item = el("div", { class: `toast toast-${word(kind)}`, "data-ticket-id": ticketId, "data-kind": kind });
  item.append(el("p", { class: "toast-title" }, title));
  if (body) item.append(el("p", { class: "toast-body" }, body));
  const actions = el("div", { class: "toast-actions" });
  if (ticketId) {
    const open = el("button", { type: "button", class: "toast-open" }, deskText("toast_open", { number }));
    open.addEventListener("click", () => {
      item.remove();
      desk.open(Number(ticketId));
    });
    actions.append(open);
  }
  const dismiss = el("button", { type: "button", class: "secondary toast-dismiss" }, deskText("toast_dismiss"));
  dismiss.addEventListener("click", () => item.remove());
  actions.append(dismiss);
  item.append(actions);
  box.append(item);
  return item;
}

/** Live events that call for a reminder in the page. */
export function onDeskEvent(event) {
  const data = event.data || {};
  if (event.type === "appointment.due" || event.type === "appointment.missed") {
    if (Number(data.owner_id) !== desk.me || !data.ticket_id) return;
    const number = data.ticket_number || "";
    const key = event.type === "appointment.missed"
      ? "toast_missed" : data.kind === "callback" ? "toast_callback_due" : "toast_follow_up_due";
    const body = [data.phone ? deskText("toast_call", { phone: data.phone }) : "", data.note || ""]
      .filter(Boolean).join(" · ");
    toast(deskText(key, { number }), body, data.ticket_id, number, event.type);
    scheduleRefresh();
  } else if (event.type === "ticket.assigned") {
    if (Number(data.user_id) !== desk.me || !data.ticket_id || !data.by || data.by === desk.name) return;
    const number = data.number || "";
    toast(deskText("toast_assigned", { number, by: data.by }), data.subject || "", data.ticket_id, number,
      event.type);
  } else if (event.type === "sla.breach") {
    if (Number(data.assignee_id) !== desk.me || !data.ticket_id) return;
    const number = data.number || "";
    toast(deskText("toast_breach", { number, target: deskText(`t_${data.target}`) }), data.subject || "",
      data.ticket_id, number, event.type);
  }
}

// ------------------------------------------------------------ wiring

/** ``reload()`` loads the queue again (console.js's), ``open(id)`` shows a ticket. */
export function setupDesk({ reload, open, me, name }) {
  Object.assign(desk, { reload, open, me, name });
  setupLanguage();
  applyDeskWords();
  const lang = otherLang();
  if (lang) {
    for (const node of document.querySelectorAll(".desk-bar, #desk-tools, #desk-toasts, #ticket-sla")) {
      node.lang = lang;
    }
  }
  if (!deskOn()) {
    for (const node of document.querySelectorAll(".desk-only")) node.hidden = true;
    return;
  }
  document.body.classList.add("desk-on");
  desk.view = storedView();
  setupToolbar();
  $("#queue-empty").textContent = deskText("empty_view");
  sla.startTicking();
  desk.policies = api("GET", "/api/desk/sla/policies").then(
    (data) => {
      sla.setPolicies(data);
      sla.tick();
    },
    () => {}, // no amber without the policies; the countdown and red still work
  );
}
