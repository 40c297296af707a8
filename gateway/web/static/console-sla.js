// Live SLA countdowns: in the queue's rows and on the open ticket, updated every
// second without a reload.  Time is the server's: every list the desk API sends
// carries its "now", and the countdown runs from there (a browser whose clock is off,
// or a server on a test clock, still counts right).  Red once overdue, amber once at
// risk (the policy's warning share of the target has run), paused while the clock
// stands still.

import { el } from "./console-render.js";
import { deskText } from "./console-words.js";

const TARGETS = ["first_response", "next_response", "resolution"];
const DONE = new Set(["resolved", "closed"]);
let offset = 0; // server time minus browser time, in ms
let policies = new Map(); // policy name -> {share, targets}

export function setServerNow(iso) {
  const at = Date.parse(iso || "");
  if (!Number.isNaN(at)) offset = at - Date.now();
}

export const serverNow = () => Date.now() + offset;

/** The policies in force (GET /api/desk/sla/policies): targets and warning shares. */
export function setPolicies(data) {
  policies = new Map((data?.policies || []).map((p) => [p.name, { share: p.warn_share, targets: p.targets }]));
}

/** "42 s", "12 min 05 s", "3 h 20 min", "2 d 4 h". */
export function duration(ms) {
  const seconds = Math.floor(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Which target a listed ticket's earliest deadline (``sla_due``) belongs to. */
export function dueTarget(ticket) {
  return TARGETS.find((t) => ticket[`${t}_due`] && ticket[`${t}_due`] === ticket.sla_due) || null;
}

/** How long before the deadline a listed ticket is at risk, in ms (0: unknown). */
function riskWindow(ticket, target) {
  const policy = policies.get(ticket.sla_policy);
  const minutes = policy?.targets?.[target]?.[ticket.priority];
  if (!policy || !minutes) return 0;
  return (1 - policy.share) * minutes * 60000;
}

/** The countdown of a queue row: {due, target, risk}, or null when there is none. */
export function rowClock(ticket) {
  if (DONE.has(ticket.status)) return null;
  if (!ticket.sla_due) return ticket.sla_paused ? { paused: true } : null;
  const target = dueTarget(ticket);
  return { due: ticket.sla_due, target, risk: riskWindow(ticket, target) };
}

/** The state of a countdown now: "breached", "risk", "ok", "paused" or "none". */
export function stateOf(clock) {
  if (!clock) return "none";
  if (clock.paused) return "paused";
  const left = Date.parse(clock.due) - serverNow();
  if (left <= 0) return "breached";
  if (clock.warnAt ? serverNow() >= Date.parse(clock.warnAt) : clock.risk && left <= clock.risk) return "risk";
  return "ok";
}

/** A listed ticket's state now (for the "breached or at risk" view). */
export const rowState = (ticket) => stateOf(rowClock(ticket));

/** A countdown element; :func:`tick` keeps it current. ``clock``: {due, target, risk?,
 * warnAt?, paused?} or null. */
export function countdown(clock) {
  const node = el("span", { class: "sla" });
  if (clock && clock.due) {
    node.dataset.slaDue = clock.due;
    if (clock.target) node.dataset.slaTarget = clock.target;
    if (clock.risk) node.dataset.slaRisk = String(Math.round(clock.risk));
    if (clock.warnAt) node.dataset.slaWarn = clock.warnAt;
  } else if (clock && clock.paused) {
    node.dataset.slaPaused = "1";
  }
  paint(node);
  return node;
}

function clockOf(node) {
  if (node.dataset.slaPaused) return { paused: true };
  if (!node.dataset.slaDue) return null;
  return {
    due: node.dataset.slaDue,
    target: node.dataset.slaTarget || null,
    risk: Number(node.dataset.slaRisk || 0),
    warnAt: node.dataset.slaWarn || null,
  };
}

function paint(node) {
  const clock = clockOf(node);
  const state = stateOf(clock);
  node.className = `sla sla-${state}`;
  node.dataset.slaState = state;
  if (state === "none") {
    node.textContent = "—";
    node.title = deskText("sla_none");
    return;
  }
  if (state === "paused") {
    node.textContent = deskText("sla_paused");
    node.title = "";
    return;
  }
  const left = Date.parse(clock.due) - serverNow();
  const time = duration(left);
  node.textContent = state === "breached" ? deskText("sla_overdue", { time }) : deskText("sla_left", { time });
  node.dataset.slaSeconds = String(Math.round(left / 1000));
  const target = clock.target ? deskText(`t_${clock.target}`) : "";
  const when = new Date(Date.parse(clock.due)).toLocaleString();
  const word = { breached: deskText("sla_breached_word"), risk: deskText("sla_risk_word") }[state];
  node.title = `${deskText("sla_due_title", { target, when })}${word ? ` (${word})` : ""}`;
}

/** Repaint every countdown in ``root``. */
export function tick(root = document) {
  for (const node of root.querySelectorAll(".sla[data-sla-due], .sla[data-sla-paused]")) paint(node);
}

let timer = null;

export function startTicking() {
  if (timer === null) timer = setInterval(() => tick(), 1000);
}
