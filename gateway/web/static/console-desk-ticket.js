// The open ticket's desk tools (/api/desk/tickets/{id}/...): priority and a live SLA
// countdown in its facts; status, priority, category, assignment (to me, a colleague,
// back to the queue), transfer to a queue with a reason, escalation to second level,
// canned responses filled for this ticket and put in the reply box, callbacks and
// follow-ups; the customer's identities and other tickets.  Every change returns the
// ticket as it now is, handed to console.js (``onChange``) for the head and the queue.

import { api } from "./console-api.js";
import { insertIntoReply } from "./console-assist.js";
import { deskOn } from "./console-desk.js";
import { change, fillList, notice, showError } from "./console-desk-tools.js";
import { el, word } from "./console-render.js";
import * as sla from "./console-sla.js";
import { channelText, deskStatusText, deskText } from "./console-words.js";

const $ = (selector) => document.querySelector(selector);
const PRIORITIES = ["P1", "P2", "P3", "P4"];
const STATUS_ORDER = ["open", "pending_customer", "pending_third_party", "resolved", "closed", "new"];

const desk = {
  id: null, // the open ticket's id
  detail: null, // GET /api/desk/tickets/{id}
  seq: 0,
  timer: null,
  onChange: () => {},
};

// ------------------------------------------------------------------ requests

function path(suffix = "") {
  return `/api/desk/tickets/${Number(desk.id)}${suffix}`;
}

async function post(suffix, body) {
  const data = await api("POST", path(suffix), body);
  render(data);
  desk.onChange(data.ticket);
  notice(deskText("done_saved"));
  return data;
}

function reason(required) {
  const text = $("#desk-reason").value.trim();
  if (required && !text) {
    $("#desk-reason").focus();
    throw new Error(deskText("need_reason"));
  }
  return text;
}

// ------------------------------------------------------------------ render

function options(select, items, keep = true) {
  const before = select.value;
  select.replaceChildren(...items.map(([value, label]) => el("option", { value }, label)));
  if (keep && items.some(([value]) => value === before)) select.value = before;
}

/** The earliest running clock of the detail's SLA, for the facts' countdown. */
function ticketClock(detail) {
  const status = detail.sla || {};
  if (["resolved", "closed"].includes(detail.ticket.status)) return null;
  if (!status.due_at) return status.paused ? { paused: true } : null;
  const clocks = Object.values(status.clocks || {});
  const clock = clocks.find((c) => c.due_at === status.due_at && !c.met_at) || {};
  return { due: status.due_at, target: clock.target || null, warnAt: clock.warn_at || null };
}

function render(detail) {
  desk.detail = detail;
  const ticket = detail.ticket;
  const prio = $("#ticket-priority");
  prio.replaceChildren(el("span", { class: `prio prio-${word(ticket.priority)}` }, ticket.priority || "—"));
  $("#ticket-sla").replaceChildren(sla.countdown(ticketClock(detail)));
  $("#ticket-category").textContent = ticket.category || deskText("no_category");
  const order = (s) => STATUS_ORDER.indexOf(s);
  const statuses = [...(detail.transitions || [])].sort((a, b) => order(a) - order(b))
    .map((s) => [s, deskStatusText(s)]);
  options($("#desk-status"), statuses, false);
  $("#desk-status-apply").disabled = statuses.length === 0;
  options($("#desk-priority"), PRIORITIES.map((p) => [p, p]), false);
  $("#desk-priority").value = ticket.priority || "P3";
  $("#desk-category").value = ticket.category || "";
  $("#desk-queue").value = ticket.queue || "";
  const done = ["resolved", "closed"].includes(ticket.status);
  for (const id of ["#desk-assign", "#desk-assign-me", "#desk-unassign", "#desk-transfer", "#desk-escalate"]) {
    $(id).disabled = done;
  }
  renderAppointments(detail.appointments || []);
}

function renderAppointments(items) {
  fillList($("#appt-list"), items, (a) => {
    const li = el("li", { class: `appt appt-${word(a.status)}`, "data-appointment-id": a.id });
    const when = new Date(Date.parse(a.due_at)).toLocaleString();
    const what = deskText(a.kind === "callback" ? "kind_callback" : "kind_follow_up");
    li.append(
      el("span", { class: "appt-when" }, `${what} · ${when}`),
      " ",
      el("span", { class: "appt-status" }, deskText(`ap_${a.status}`)),
    );
    const extra = [a.phone, a.note].filter(Boolean).join(" · ");
    if (extra) li.append(el("span", { class: "appt-note" }, extra));
    if (a.status === "scheduled" || a.status === "reminded") {
      const button = el("button", { type: "button", class: "secondary appt-done" }, deskText("appt_done"));
      button.addEventListener("click", () => change(button, "failed_schedule", async () => {
        await api("POST", `/api/desk/appointments/${Number(a.id)}/done`, {});
        await reload();
      }));
      li.append(" ", button);
    }
    return li;
  }, "appt_none");
}

async function loadLists() {
  const [people, queues, canned] = await Promise.all([
    api("GET", "/api/desk/operators"),
    api("GET", "/api/desk/queues"),
    api("GET", "/api/desk/canned"),
  ]);
  options($("#desk-assignee"), people.operators.map((o) => {
    const where = deskText(o.present ? "present" : "away");
    return [String(o.id), `${o.name} (${where}, ${deskText("holding", { n: o.holding })})`];
  }));
  options($("#desk-queue"), queues.queues.map((q) => [q.name, q.label ? `${q.label} (${q.name})` : q.name]));
  const cannedItems = canned.canned.map((c) => [String(c.id), c.title]);
  options($("#desk-canned"), cannedItems);
  $("#desk-canned-none").hidden = cannedItems.length > 0;
  $("#desk-canned-insert").disabled = cannedItems.length === 0;
}

async function loadCustomer(conversationId, ticketId, seq) {
  const box = $("#customer-body");
  try {
    const found = await api("GET", `/api/customers?conversation_id=${Number(conversationId)}`);
    const customer = found.customers[0];
    if (!customer || seq !== desk.seq) return;
    const data = await api("GET", `/api/customers/${Number(customer.id)}`);
    if (seq !== desk.seq) return;
    const ids = el("ul", { class: "customer-identities", "aria-label": deskText("customer_identities") });
    ids.append(...data.identities.map((i) =>
      el("li", {}, `${channelText(i.channel)}: ${i.display_name ? `${i.display_name} · ` : ""}${i.address}`)));
    const others = data.conversations.flatMap((c) => c.tickets.map((t) => ({ ...t, channel: c.channel })))
      .filter((t) => t.id !== ticketId);
    const list = el("ul", { class: "customer-tickets" });
    for (const t of others) {
      const li = el("li");
      li.append(el("a", { href: `/console/tickets/${Number(t.id)}` }, t.number || `#${t.id}`),
        ` ${t.subject || ""} · ${deskStatusText(t.status)} · ${channelText(t.channel)}`);
      list.append(li);
    }
    if (!others.length) list.append(el("li", { class: "hint" }, deskText("customer_none")));
    box.replaceChildren(
      el("p", { class: "customer-name" }, customer.display_name || ""),
      ids,
      el("h4", {}, deskText("customer_previous")),
      list,
    );
  } catch (error) {
    if (seq === desk.seq) box.replaceChildren(el("p", { class: "hint" }, deskText("customer_unavailable", {
      error: error.message,
    })));
  }
}

// ------------------------------------------------------------------ open / close

async function reload() {
  if (!desk.id) return;
  const seq = desk.seq;
  const detail = await api("GET", path());
  if (seq === desk.seq) render(detail);
}

/** A ticket was opened in the console. */
export async function showDeskTicket(ticket) {
  if (!deskOn()) return;
  const seq = ++desk.seq;
  const another = desk.id !== ticket.id;
  desk.id = ticket.id;
  if (another) {
    notice("");
    $("#desk-reason").value = "";
    $("#customer-body").replaceChildren(el("p", { class: "hint" }, deskText("loading")));
    setDefaultTime();
  }
  try {
    await loadLists();
    if (seq !== desk.seq) return;
    await reload();
  } catch (error) {
    if (seq === desk.seq) showError(error.message);
  }
  loadCustomer(ticket.conversation_id, ticket.id, seq);
}

export function clearDeskTicket() {
  desk.seq++;
  desk.id = null;
  desk.detail = null;
}

/** A live change of the open ticket (by a colleague, the sweeper): fetch it again. */
export function deskTicketChanged(ticketId) {
  if (!deskOn() || ticketId !== desk.id) return;
  clearTimeout(desk.timer);
  desk.timer = setTimeout(() => reload().catch(() => {}), 250);
}

// ------------------------------------------------------------------ appointments

function localInput(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function setDefaultTime() {
  const inAnHour = Math.ceil((sla.serverNow() + 3600000) / 900000) * 900000; // next quarter after 1 h
  $("#appt-when").value = localInput(inAnHour);
}

function schedule() {
  const button = $("#appt-schedule");
  return change(button, "failed_schedule", async () => {
    const raw = $("#appt-when").value;
    const when = raw ? new Date(raw) : null;
    if (!when || Number.isNaN(when.getTime())) {
      $("#appt-when").focus();
      throw new Error(deskText("need_time"));
    }
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    await api("POST", path("/appointments"), {
      due_at: when.toISOString(),
      kind: $("#appt-kind").value,
      phone: $("#appt-phone").value.trim(),
      note: $("#appt-note").value.trim(),
      timezone: zone,
    });
    $("#appt-note").value = "";
    await reload();
    notice(deskText("done_scheduled", { when: when.toLocaleString() }));
  });
}

// ------------------------------------------------------------------ wiring

function selected(id) {
  const value = $(id).value;
  if (!value) throw new Error(deskText("need_choice"));
  return value;
}

export function setupDeskTicket({ onChange }) {
  desk.onChange = onChange;
  if (!deskOn()) return;
  const on = (id, failedKey, action) => {
    const button = $(id);
    button.addEventListener("click", () => change(button, failedKey, action));
  };
  on("#desk-status-apply", "failed_status", () =>
    post("/status", { status: selected("#desk-status"), reason: reason(false) }));
  on("#desk-priority-apply", "failed_priority", () =>
    post("/priority", { priority: selected("#desk-priority"), reason: reason(true) }));
  on("#desk-category-apply", "failed_category", () =>
    post("/category", { category: $("#desk-category").value.trim() }));
  on("#desk-assign", "failed_assign", () => post("/assign", { user_id: Number(selected("#desk-assignee")) }));
  on("#desk-assign-me", "failed_assign", () => post("/assign", { user_id: "me" }));
  on("#desk-unassign", "failed_assign", () => post("/assign", { user_id: null }));
  on("#desk-transfer", "failed_transfer", () =>
    post("/transfer", { queue: selected("#desk-queue"), reason: reason(true) }));
  on("#desk-escalate", "failed_escalate", () => post("/escalate", { reason: reason(true) }));
  on("#desk-canned-insert", "failed_canned", async () => {
    const id = Number(selected("#desk-canned"));
    const { text } = await api("POST", `/api/desk/canned/${id}/render`, { ticket_id: Number(desk.id) });
    insertIntoReply(text);
  });
  $("#appt-schedule").addEventListener("click", schedule);
}
