// Desktop notifications for the operator: a ticket assigned to them by someone else
// ("ticket.assigned"), a callback or follow-up they own coming due ("appointment.due").
// Permission is only ever asked from a click on the top bar's button, never on load.
// Without permission (or support) nothing is shown outside the page: the queue and the
// ticket still update live.

const $ = (selector) => document.querySelector(selector);
const supported = typeof window.Notification === "function";

const permission = () => (supported ? window.Notification.permission : "unsupported");

/** The top bar's button: shown only while the browser could still be asked. */
function renderButton() {
  const button = $("#btn-notify");
  if (!button) return;
  button.hidden = permission() !== "default";
}

export function setupNotifications() {
  const button = $("#btn-notify");
  if (!button) return;
  renderButton();
  button.addEventListener("click", async () => {
    try {
      await window.Notification.requestPermission();
    } finally {
      renderButton();
    }
  });
}

/** Show one notification; a click on it brings the console back on ``ticketId``. */
function notify(title, body, tag, onClick) {
  if (permission() !== "granted") return false;
  try {
    const note = new window.Notification(title, { body, tag, lang: "en" });
    note.addEventListener("click", () => {
      window.focus();
      note.close();
      onClick();
    });
    return true;
  } catch {
    return false; // e.g. a browser that only notifies from a service worker
  }
}

/** Notify about a live event when it concerns this operator.  ``me`` is
 * {id, name}; ``open(ticketId)`` shows a ticket. */
export function notifyEvent(event, me, open) {
  const data = event.data || {};
  if (event.type === "ticket.assigned") {
    if (Number(data.user_id) !== me.id || !data.ticket_id) return false;
    if (data.by && data.by === me.name) return false; // took it themselves
    const by = data.by ? ` by ${data.by}` : "";
    return notify(`Ticket ${data.number || ""} assigned to you${by}`.replace("  ", " "),
      data.subject || "", `assigned-${Number(data.ticket_id)}`, () => open(Number(data.ticket_id)));
  }
  if (event.type === "appointment.due") {
    if (Number(data.owner_id) !== me.id || !data.ticket_id) return false;
    const what = data.kind === "callback" ? "Callback" : "Follow-up";
    const body = [data.phone ? `Call ${data.phone}` : "", data.note || ""].filter(Boolean).join(" · ");
    return notify(`${what} due: ticket ${data.ticket_number || ""}`.trim(), body,
      `appointment-${Number(data.id)}`, () => open(Number(data.ticket_id)));
  }
  return false;
}
