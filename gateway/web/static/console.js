// Guichet operator console: live queue, conversation view and operator actions.
// Rendering (textContent only) is in console-render.js, the API client in console-api.js,
// code-to-words in console-words.js.

import { api } from "./console-api.js";
import { clearAssist, loadAssist } from "./console-assist.js";
import { ageText, deliveryNode, messageNode, word } from "./console-render.js";
import { notifyEvent, setupNotifications } from "./console-notify.js";
import { channelText, reasonText, statusText } from "./console-words.js";
import { deskRow, fetchQueue, keepTicket, onDeskEvent, orderTickets, setupDesk } from "./console-desk.js";
import { clearDeskTicket, deskTicketChanged, setupDeskTicket, showDeskTicket } from "./console-desk-ticket.js";
import { clearTicketExtras, setupDeskExtras, showTicketExtras, ticketExtrasChanged } from "./console-desk-contacts.js";
import { onIncidentEvent, setupIncidents } from "./console-incidents.js";

const $ = (selector) => document.querySelector(selector);
const ME = Number(document.querySelector('meta[name="user-id"]')?.content ?? "0");
const MY_NAME = document.querySelector('meta[name="user-name"]')?.content ?? "";
const TYPING_RESEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const TYPING_SHOW_MS = 8000;

const state = {
  tickets: new Map(), // id -> ticket dict, those of the queue's view (console-desk.js)
  activity: new Set(), // ticket ids with unseen messages
  ticket: null, // the open ticket
  conversation: null, // its conversation
  messageIds: new Set(),
  openSeq: 0,
  pinned: true, // the conversation follows its newest message (until the operator scrolls up)
  focusId: null, // the queue row that has (or last had) the keyboard focus
};

// ------------------------------------------------------------------ errors

function showError(message) {
  const box = $("#action-error");
  box.textContent = message;
  box.hidden = false;
}

function hideError() {
  $("#action-error").hidden = true;
}

// ------------------------------------------------------------------- queue

function renderQueue() {
  const tickets = orderTickets([...state.tickets.values()]);
  const rows = tickets.map((t) =>
    deskRow(t, { selected: state.ticket?.id === t.id, activity: state.activity.has(t.id) }),
  );
  const hadFocus = document.activeElement?.closest?.("#ticket-list") != null;
  $("#ticket-list").replaceChildren(...rows);
  // One row in the Tab order (roving tabindex): the focused one, else the open ticket's,
  // else the first; the arrow keys move between rows (onQueueKey).
  const keep = rows.find((r) => Number(r.dataset.ticketId) === state.focusId)
    || rows.find((r) => Number(r.dataset.ticketId) === state.ticket?.id)
    || rows[0];
  if (keep) {
    keep.tabIndex = 0;
    if (hadFocus) keep.focus({ preventScroll: true });
  }
  $("#queue-count").textContent = String(tickets.length);
  $("#queue-empty").hidden = tickets.length > 0;
  const waiting = tickets.filter((t) => t.status === "new").length;
  const base = state.ticket ? `${state.ticket.number} · Guichet` : "Queue · Guichet";
  document.title = waiting ? `(${waiting}) ${base}` : base;
}

function updateAges() {
  for (const row of document.querySelectorAll("#ticket-list .ticket-row")) {
    const cell = row.querySelector(".col-age");
    if (cell && row.dataset.created) cell.textContent = ageText(row.dataset.created);
  }
}

function upsertTicket(ticket) {
  const kept = keepTicket(ticket, state.tickets.get(ticket.id));
  if (kept) state.tickets.set(ticket.id, kept);
  else state.tickets.delete(ticket.id);
  if (state.ticket && state.ticket.id === ticket.id) {
    state.ticket = ticket;
    renderTicketHead();
  }
  renderQueue();
}

async function loadQueue() {
  const tickets = await fetchQueue();
  state.tickets = new Map(tickets.map((t) => [t.id, t]));
  renderQueue();
}

// ------------------------------------------------------------ conversation

function nearEnd(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

/** Show the newest message: always when ``force`` (a ticket opened, the operator's own
 * message), else only if the operator had not scrolled up to read older ones. */
function scrollToEnd(force) {
  const box = $("#conversation");
  if (force) state.pinned = true;
  if (state.pinned) box.scrollTop = box.scrollHeight;
}

/** Layout changes after the scroll (the suggestions panel filling in, a resized
 * window, the typing line) shrink or grow the box: follow the newest message again. */
function keepPinned() {
  const box = $("#conversation");
  box.addEventListener("scroll", () => {
    state.pinned = nearEnd(box);
  }, { passive: true });
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => {
      if (state.pinned) box.scrollTop = box.scrollHeight;
    }).observe(box);
  }
}

function renderMessages(messages) {
  state.messageIds = new Set(messages.map((m) => m.id));
  const customer = state.conversation?.customer_name;
  const box = $("#conversation");
  const top = box.scrollTop;
  box.replaceChildren(...messages.map((m) => messageNode(m, customer)));
  if (state.pinned) scrollToEnd(false);
  else box.scrollTop = top;
}

function appendMessage(message, own = false) {
  if (state.messageIds.has(message.id)) return;
  state.messageIds.add(message.id);
  $("#conversation").append(messageNode(message, state.conversation?.customer_name));
  scrollToEnd(own);
}

function updateDelivery(message) {
  const node = document.querySelector(`#conversation [data-message-id="${Number(message.id)}"] .delivery`);
  if (node) node.replaceWith(deliveryNode(message));
}

function renderTicketHead() {
  const ticket = state.ticket;
  const conversation = state.conversation;
  $("#no-ticket").hidden = Boolean(ticket);
  $("#ticket-detail").hidden = !ticket;
  document.body.classList.toggle("has-ticket", Boolean(ticket)); // narrow screens: list or detail
  if (!ticket) return;
  $("#ticket-number").textContent = ticket.number;
  $("#ticket-subject").textContent = ticket.subject;
  const status = $("#ticket-status");
  status.textContent = statusText(ticket.status);
  status.className = `status status-${word(ticket.status)}`;
  $("#ticket-customer").textContent = conversation?.customer_name || ticket.customer_name || "";
  $("#ticket-channel").textContent = channelText(conversation?.channel || ticket.channel || "");
  $("#ticket-reason").textContent = reasonText(ticket.handoff_reason) || "—";
  $("#ticket-queue").textContent = ticket.queue;
  $("#ticket-assignee").textContent = ticket.assignee_name || "—";
  const resolved = ticket.status === "resolved";
  $("#btn-take").disabled = resolved || ticket.assignee_id === ME;
  $("#btn-resolve").disabled = resolved;
  $("#btn-handback").disabled = !conversation || ["bot", "resolved"].includes(conversation.state);
  $("#btn-draft").disabled = !resolved;
}

async function openTicket(id, push) {
  const seq = ++state.openSeq;
  hideError();
  try {
    const { ticket } = await api("GET", `/api/tickets/${Number(id)}`);
    const data = await api("GET", `/api/conversations/${Number(ticket.conversation_id)}`);
    if (seq !== state.openSeq) return; // another ticket was clicked meanwhile
    const another = state.ticket?.id !== ticket.id;
    state.ticket = ticket;
    state.conversation = data.conversation;
    state.activity.delete(ticket.id);
    setTyping(null);
    renderTicketHead();
    if (another) state.pinned = true; // a resync keeps the operator's place
    renderMessages(data.messages);
    renderQueue();
    $("#draft-notice").hidden = true;
    loadAssist(ticket.conversation_id);
    showDeskTicket(ticket);
    showTicketExtras(ticket);
    $("#ticket-pane").dataset.ticketId = String(ticket.id);
    if (push) history.pushState({ ticketId: ticket.id }, "", `/console/tickets/${Number(ticket.id)}`);
  } catch (error) {
    if (seq === state.openSeq) showError(error.message);
  }
}

function closeTicket() {
  state.openSeq++;
  state.ticket = null;
  state.conversation = null;
  state.messageIds = new Set();
  $("#conversation").replaceChildren();
  clearAssist();
  clearDeskTicket();
  clearTicketExtras();
  renderTicketHead();
  renderQueue();
}

async function refreshOpenTicket() {
  if (!state.ticket) return;
  const { ticket } = await api("GET", `/api/tickets/${Number(state.ticket.id)}`);
  upsertTicket(ticket);
}

// ----------------------------------------------------------------- actions

/** Run an operator action; a failure says what did not happen and why. */
async function act(button, action, failed) {
  button.disabled = true;
  hideError();
  try {
    await action();
  } catch (error) {
    showError(failed ? `${failed} ${error.message}` : error.message);
  } finally {
    button.disabled = false;
    renderTicketHead();
  }
}

function takeOver() {
  return act($("#btn-take"), async () => {
    const { ticket } = await api("POST", `/api/tickets/${Number(state.ticket.id)}/take`);
    upsertTicket(ticket);
  }, "The ticket was not taken over.");
}

function resolveTicket() {
  return act($("#btn-resolve"), async () => {
    const { ticket } = await api("POST", `/api/tickets/${Number(state.ticket.id)}/resolve`);
    upsertTicket(ticket);
  }, "The ticket was not resolved.");
}

function handBack() {
  return act($("#btn-handback"), async () => {
    const id = Number(state.conversation.id);
    const { conversation } = await api("POST", `/api/conversations/${id}/handback`);
    state.conversation = conversation;
    if (conversation.ticket) upsertTicket(conversation.ticket);
    else await refreshOpenTicket();
  }, "The conversation was not handed back to the bot.");
}

function draftArticle() {
  return act($("#btn-draft"), async () => {
    const { draft, url } = await api("POST", `/api/tickets/${Number(state.ticket.id)}/draft`, {});
    const notice = $("#draft-notice");
    const link = document.createElement("a");
    link.href = url;
    link.id = "draft-link";
    link.textContent = `Draft #${draft.id} “${draft.title}”`;
    notice.replaceChildren(link, " created: an admin reviews it before it goes into the knowledge base.");
    notice.hidden = false;
  }, "No draft was created.");
}

function send(kind) {
  const field = kind === "note" ? $("#note-text") : $("#reply-text");
  const button = kind === "note" ? $("#btn-note") : $("#btn-reply");
  const what = kind === "note" ? "The note" : "The reply";
  if (!field.value.trim()) {
    showError(kind === "note" ? "Write the note first." : "Write a reply first.");
    field.focus();
    return Promise.resolve();
  }
  // The text stays in the box until the server has it: a failure loses nothing.
  return act(button, async () => {
    const text = field.value.trim();
    const path = kind === "note" ? "notes" : "reply";
    const id = Number(state.conversation.id);
    const { message } = await api("POST", `/api/conversations/${id}/${path}`, { text });
    field.value = "";
    appendMessage(message, true);
    if (kind === "reply") {
      typing.stop();
      await refreshOpenTicket().catch(() => {}); // a reply takes the ticket over
    }
  }, `${what} was not sent; your text is kept in the box.`);
}

// ------------------------------------------------------------------ typing

const typing = {
  on: false,
  lastSent: 0,
  idleTimer: null,
  post(on) {
    if (!state.conversation) return;
    const id = Number(state.conversation.id);
    this.on = on;
    this.lastSent = Date.now();
    api("POST", `/api/conversations/${id}/typing`, { on }).catch(() => {});
  },
  input() {
    if (!this.on || Date.now() - this.lastSent > TYPING_RESEND_MS) this.post(true);
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), TYPING_IDLE_MS);
  },
  stop() {
    clearTimeout(this.idleTimer);
    if (this.on) this.post(false);
  },
};

let typingHideTimer = null;

function setTyping(text) {
  const box = $("#typing-indicator");
  clearTimeout(typingHideTimer);
  box.hidden = !text;
  if (text) {
    box.textContent = text;
    typingHideTimer = setTimeout(() => setTyping(null), TYPING_SHOW_MS);
  }
}

// --------------------------------------------------------------- live feed

function onEvent(event) {
  const data = event.data || {};
  notifyEvent(event, { id: ME, name: MY_NAME }, (id) => openTicket(id, true));
  onDeskEvent(event);
  onIncidentEvent(event);
  if (data.ticket_id) deskTicketChanged(Number(data.ticket_id)); // appointments, SLA alerts
  const current = state.conversation ? state.conversation.id : null;
  switch (event.type) {
    case "hello": // subscribed from now on: reload what may have been missed
      resync().catch((error) => showError(error.message));
      break;
    case "ticket.created":
    case "ticket.updated":
      if (data.ticket) upsertTicket(data.ticket);
      if (data.ticket) deskTicketChanged(data.ticket.id);
      if (data.ticket) ticketExtrasChanged(data.ticket.id);
      break;
    case "message.created":
      if (data.conversation_id === current && data.message) {
        appendMessage(data.message);
        if (data.message.author === "customer") {
          setTyping(null);
          if (data.message.kind === "message") loadAssist(current);
        }
      } else {
        for (const ticket of state.tickets.values()) {
          if (ticket.conversation_id === data.conversation_id) state.activity.add(ticket.id);
        }
        renderQueue();
      }
      break;
    case "message.updated": // its delivery changed (sent, failed with a reason, …)
      if (data.conversation_id === current && data.message) updateDelivery(data.message);
      break;
    case "typing":
      if (data.conversation_id !== current) break;
      if (data.author === "customer") setTyping(data.on ? "The customer is typing…" : null);
      else if (data.author === "operator" && data.user_id !== ME) {
        setTyping(data.on ? `${data.name || "A colleague"} is typing…` : null);
      }
      break;
    default:
      break;
  }
}

async function resync() {
  await loadQueue();
  if (state.ticket) await openTicket(state.ticket.id, false);
}

let retries = 0;

function setConnected(live) {
  const badge = $("#conn-status");
  badge.textContent = live ? "live" : "offline";
  badge.className = `conn ${live ? "live" : "offline"}`;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/console/ws`);
  socket.addEventListener("open", () => {
    retries = 0;
    setConnected(true);
  });
  socket.addEventListener("message", (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    onEvent(event);
  });
  socket.addEventListener("close", () => {
    setConnected(false);
    // Perhaps the session ended: api() sends us to the login page on 401.
    if (retries > 0) api("GET", "/api/me").catch(() => {});
    const delay = Math.min(30000, 1000 * 2 ** retries) * (0.5 + Math.random() / 2);
    retries += 1;
    setTimeout(connect, delay);
  });
}

// ---------------------------------------------------------------- keyboard

/** The queue by keyboard: arrows, Home and End move between rows, Enter or Space
 * opens the focused ticket. */
function onQueueKey(event) {
  const row = event.target.closest?.(".ticket-row");
  if (!row || event.altKey || event.ctrlKey || event.metaKey) return;
  const rows = [...document.querySelectorAll("#ticket-list .ticket-row")];
  const at = rows.indexOf(row);
  const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: rows.length - 1 }[event.key];
  if (to !== undefined) {
    event.preventDefault();
    const next = rows[Math.max(0, Math.min(rows.length - 1, to))];
    if (next) focusRow(next);
  } else if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    openTicket(Number(row.dataset.ticketId), true);
  }
}

function focusRow(row) {
  for (const other of document.querySelectorAll("#ticket-list .ticket-row")) other.tabIndex = -1;
  row.tabIndex = 0;
  state.focusId = Number(row.dataset.ticketId);
  row.focus();
}

/** Narrow screens show the queue or a ticket: back to the queue. */
function backToQueue() {
  const id = state.ticket?.id;
  history.pushState({}, "", "/console");
  closeTicket();
  const row = id && document.querySelector(`#ticket-list .ticket-row[data-ticket-id="${Number(id)}"]`);
  if (row) focusRow(row);
}

// -------------------------------------------------------------------- wire

function init() {
  $("#ticket-list").addEventListener("click", (event) => {
    const row = event.target.closest(".ticket-row");
    if (!row || event.ctrlKey || event.metaKey || event.shiftKey) return; // new tab: let the link work
    event.preventDefault();
    state.focusId = Number(row.dataset.ticketId);
    openTicket(Number(row.dataset.ticketId), true);
  });
  $("#ticket-list").addEventListener("keydown", onQueueKey);
  $("#ticket-list").addEventListener("focusin", (event) => {
    const row = event.target.closest?.(".ticket-row");
    if (row) state.focusId = Number(row.dataset.ticketId);
  });
  $("#btn-back").addEventListener("click", backToQueue);
  const first = $("#ticket-list .ticket-row.selected") || $("#ticket-list .ticket-row");
  if (first) first.tabIndex = 0; // the server-rendered queue, until the live one replaces it
  keepPinned();
  setupNotifications();
  setupDesk({ reload: loadQueue, open: (id) => openTicket(id, true), me: ME, name: MY_NAME });
  setupDeskTicket({ onChange: upsertTicket });
  setupDeskExtras();
  setupIncidents({ open: (id) => openTicket(id, true) });
  $("#btn-take").addEventListener("click", takeOver);
  $("#btn-resolve").addEventListener("click", resolveTicket);
  $("#btn-handback").addEventListener("click", handBack);
  $("#btn-draft").addEventListener("click", draftArticle);
  $("#btn-reply").addEventListener("click", () => send("reply"));
  $("#btn-note").addEventListener("click", () => send("note"));
  for (const [field, kind] of [["#reply-text", "reply"], ["#note-text", "note"]]) {
    $(field).addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        send(kind);
      }
    });
  }
  $("#reply-text").addEventListener("input", () => typing.input());
  $("#reply-text").addEventListener("blur", () => typing.stop());
  window.addEventListener("popstate", () => {
    const match = location.pathname.match(/^\/console\/tickets\/(\d+)$/);
    if (match) openTicket(Number(match[1]), false);
    else closeTicket();
  });
  setInterval(updateAges, 30000);
  const initial = Number($("#ticket-pane").dataset.ticketId);
  if (initial) openTicket(initial, false);
  connect();
}

init();
