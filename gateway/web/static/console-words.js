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

// ------------------------------------------------------------ ticket desk
// The desk's words come in English and French (gateway/web/desk_words.py): the
// operator's choice (the top bar's language menu, kept in this browser), else the
// page's language.

const LANG_KEY = "guichet.console.lang";
const DESK = WORDS.desk || {};

function storedLang() {
  try {
    return localStorage.getItem(LANG_KEY) || "";
  } catch {
    return "";
  }
}

export const deskLanguages = () => Object.keys(DESK);

export function deskLang() {
  const wanted = storedLang() || document.documentElement.lang || "en";
  return DESK[wanted] ? wanted : "en";
}

export function setDeskLang(lang) {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/** A desk word in the operator's language, ``{name}`` filled from ``vars``. */
export function deskText(key, vars = {}) {
  const table = DESK[deskLang()] || {};
  const template = table[key] ?? (DESK.en || {})[key] ?? plain(key);
  return template.replace(/\{([a-z_]+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Fill the elements of ``root`` marked ``data-word`` (text), ``data-word-placeholder``,
 * ``data-word-title`` and ``data-word-label`` (aria-label) in the operator's language. */
export function applyDeskWords(root = document) {
  for (const node of root.querySelectorAll("[data-word]")) node.textContent = deskText(node.dataset.word);
  for (const node of root.querySelectorAll("[data-word-placeholder]")) {
    node.placeholder = deskText(node.dataset.wordPlaceholder);
  }
  for (const node of root.querySelectorAll("[data-word-title]")) node.title = deskText(node.dataset.wordTitle);
  for (const node of root.querySelectorAll("[data-word-label]")) {
    node.setAttribute("aria-label", deskText(node.dataset.wordLabel));
  }
}

export const deskStatusText = (code) => deskText(`st_${code}`);
