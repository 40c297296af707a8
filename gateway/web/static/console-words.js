// Human words for stored codes (handoff reasons, statuses, channels, delivery).
// The table comes from the server (gateway/web/words.py) as JSON in a <meta> of the
// page, so a live event reads the same as the server-rendered one.

function load() {
  try {
    return JSON.parse(document.querySelector('meta[name="console-words"]')?.content || "{}");
  } catch {
    return {};
  }
}

const WORDS = load();
const CODE = /\(([a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+)\)/g;

/** A code with no entry: at least no underscores. */
const plain = (code) => String(code ?? "").replaceAll("_", " ");
const lookup = (table, code) => (WORDS[table] && WORDS[table][code]) || plain(code);

export const reasonText = (code) => (code ? lookup("reasons", code) : "");
export const statusText = (code) => lookup("statuses", code);
export const channelText = (code) => lookup("channels", code);
export const deliveryText = (code) => lookup("delivery", code);

/** "Ticket G-7 opened in queue L1 (explicit_request)." with the reason in words. */
export const eventText = (text) => String(text ?? "").replace(CODE, (_, code) => `(${reasonText(code)})`);
