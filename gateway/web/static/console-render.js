// DOM building for the console.  Rule: data goes in with textContent or
// setAttribute, never innerHTML.  The bot's and operators' Markdown goes through
// GuichetMarkdown (markdown.js, loaded by console.html before this module), which
// builds text nodes and a fixed set of elements.  Email HTML, already sanitised by
// the server, is only ever shown inside a sandboxed iframe (srcdoc).

import { channelText, deliveryText, eventText } from "./console-words.js";

const MD = globalThis.GuichetMarkdown;

export function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, String(value));
  }
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A value safe to use inside a class name. */
export const word = (value) => String(value ?? "").replace(/[^a-z0-9_-]/gi, "");

export function ageText(iso) {
  const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h`;
  return `${Math.floor(minutes / 1440)} d`;
}

function timeNode(iso) {
  const date = new Date(iso);
  const label = Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
  return el("time", { datetime: iso }, label);
}

/** One queue row; `selected` and `activity` are booleans.  The row itself takes the
 * keyboard focus (console.js moves it with the arrow keys, Enter opens); its link
 * stays for a middle click or "open in a new tab" and is left out of the Tab order. */
export function ticketRow(ticket, { selected = false, activity = false } = {}) {
  const classes = ["ticket-row", `status-${word(ticket.status)}`];
  if (selected) classes.push("selected");
  if (activity) classes.push("has-activity");
  const row = el("tr", {
    class: classes.join(" "),
    "data-ticket-id": ticket.id,
    "data-number": ticket.number,
    "data-created": ticket.created_at,
    tabindex: "-1",
    "aria-current": selected ? "true" : null,
  });
  const number = el("td", { class: "col-number" });
  number.append(el("a", { href: `/console/tickets/${Number(ticket.id)}`, tabindex: "-1" }, ticket.number));
  row.append(
    number,
    el("td", { class: "col-subject" }, ticket.subject),
    el("td", { class: "col-customer" }, ticket.customer_name),
    el("td", { class: "col-channel" }, channelText(ticket.channel)),
    el("td", { class: "col-queue" }, ticket.queue),
    el("td", { class: "col-age" }, ageText(ticket.created_at)),
    el("td", { class: "col-assignee" }, ticket.assignee_name || "—"),
  );
  return row;
}

function authorLabel(message, customerName) {
  if (message.author_name) return message.author_name;
  if (message.author === "customer") return customerName || "Customer";
  return { bot: "Bot", operator: "Operator", system: "System" }[message.author] || "Unknown";
}

/** The delivery state of an outbound message; a failure shows its reason. */
export function deliveryNode(message) {
  const failed = message.delivery === "failed";
  const detail = (message.meta && message.meta.delivery_detail) || "";
  const label = failed && detail ? `not delivered: ${detail}` : deliveryText(message.delivery);
  return el("span", { class: `delivery delivery-${word(message.delivery)}`, title: detail }, label);
}

/** The text of a message: the bot's and operators' Markdown rendered safely, the
 * customer's text as written (line breaks kept, bare links clickable). */
export function messageText(message) {
  const customer = message.author === "customer";
  const box = el("div", { class: customer ? "msg-text msg-plain" : "msg-text msg-md" });
  if (!MD) box.textContent = message.text ?? ""; // markdown.js missing: plain text
  else box.append(customer ? MD.plain(message.text) : MD.render(message.text));
  return box;
}

/** One message of the conversation: customer, bot, operator, note or event. */
export function messageNode(message, customerName) {
  const common = {
    "data-author": message.author,
    "data-kind": message.kind,
    "data-message-id": message.id,
  };
  if (message.kind === "event") {
    const line = el("div", { class: "msg msg-event", ...common });
    line.append(el("span", { class: "msg-text" }, eventText(message.text)), " ", timeNode(message.created_at));
    return line;
  }
  const note = message.kind === "note";
  const node = el("article", {
    class: `msg msg-${word(message.author)}${note ? " msg-note" : ""}`,
    ...common,
  });
  const header = el("header", { class: "msg-meta" });
  header.append(el("span", { class: "msg-author" }, authorLabel(message, customerName)));
  if (note) header.append(el("span", { class: "badge badge-internal" }, "internal"));
  header.append(timeNode(message.created_at));
  if (message.direction === "out" && message.delivery) header.append(deliveryNode(message));
  node.append(header, messageText(message));
  if (message.html) {
    const details = el("details", { class: "msg-html" });
    const frame = el("iframe", { sandbox: "", referrerpolicy: "no-referrer", title: "Formatted message" });
    frame.srcdoc = message.html; // sanitised by the server; sandboxed: no script, no same origin
    details.append(el("summary", {}, "Formatted version"), frame);
    node.append(details);
  }
  return node;
}
