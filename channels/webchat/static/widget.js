/* Guichet web-chat widget: one <script> tag, no build step, no external resources.
 *
 *   <script src="https://help.example.com/widget.js" defer
 *           data-server="https://help.example.com"  (default: this script's origin)
 *           data-lang="fr"                          (default: the browser's language)
 *           data-title="Chat with us"
 *           data-name="Ada Lovelace"></script>      (optional visitor display name)
 *
 *           data-bot-name="Colibri assistant"        (optional: the bot's name on its messages)
 *           data-user-id="42" data-user-hash="9f2c…"  (optional: a logged-in user of the host
 *                                                     site, HMAC by the host: docs/security.md)
 *
 * Wire protocol: channels/webchat/PROTOCOL.md.  Nothing people or the bot wrote is ever
 * parsed as HTML: the bot's and operators' Markdown goes through GuichetMarkdown
 * (gateway/web/static/markdown.js, served in front of this file as part of /widget.js),
 * which builds text nodes and a fixed set of elements; customers' text is shown as written.
 */
(function () {
  "use strict";
  if (window.GuichetWidget) return; // loaded twice: keep the first

  const TEXTS = {
    en: {
      title: "Chat with us",
      open: "Open the chat",
      close: "Close the chat",
      placeholder: "Write your message…",
      send: "Send",
      typing: "An agent is typing…",
      connecting: "Connecting…",
      reconnecting: "Connection lost. Reconnecting…",
      sending: "Sending…",
      retry: "Retry",
      bot: "Assistant",
      you: "You",
      count: "{n} / {max} characters",
      tooLong: "Your message has {n} characters; the limit is {max}. It was not sent: shorten it or send it in several parts (your text is kept).",
      welcome: "Hello! Ask us your question, we are here to help.",
      errors: {
        too_large: "This message is too long.",
        rate_limited: "You are sending messages too quickly. Please wait a moment.",
        internal_error: "The message could not be saved. Please try again.",
        invalid_token: "Your previous chat session has ended; a new one has started.",
        token_expired: "Your previous chat session has expired; a new one has started.",
        invalid: "The message could not be understood.",
      },
    },
    fr: {
      title: "Discutons",
      open: "Ouvrir la discussion",
      close: "Fermer la discussion",
      placeholder: "Écrivez votre message…",
      send: "Envoyer",
      typing: "Un conseiller écrit…",
      connecting: "Connexion…",
      reconnecting: "Connexion perdue. Reconnexion…",
      sending: "Envoi…",
      retry: "Réessayer",
      bot: "Assistant",
      you: "Vous",
      count: "{n} / {max} caractères",
      tooLong: "Votre message compte {n} caractères ; la limite est de {max}. Il n'a pas été envoyé : raccourcissez-le ou envoyez-le en plusieurs fois (votre texte est conservé).",
      welcome: "Bonjour ! Posez-nous votre question, nous sommes là pour vous aider.",
      errors: {
        too_large: "Ce message est trop long.",
        rate_limited: "Vous envoyez des messages trop vite. Patientez un instant.",
        internal_error: "Le message n'a pas pu être enregistré. Réessayez.",
        invalid_token: "Votre session de discussion précédente est terminée ; une nouvelle a commencé.",
        token_expired: "Votre session de discussion précédente a expiré ; une nouvelle a commencé.",
        invalid: "Le message n'a pas pu être compris.",
      },
    },
  };
  const AUTHORS = ["bot", "operator", "customer", "system"];
  const RETRYABLE = ["internal_error", "rate_limited"];
  const CLOSE_BAD_TOKEN = 4401;
  const CLOSE_TOO_BIG = 1009;

  // ------------------------------------------------------------------ config
  const script = document.currentScript || findScript();
  const data = (script && script.dataset) || {};
  const scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  const server = new URL(data.server || scriptOrigin, location.href).href.replace(/\/+$/, "");
  const wsUrl = server.replace(/^http/, "ws") + "/chat/ws";
  const lang = pickLang(data.lang || (navigator.languages && navigator.languages[0]) || navigator.language);
  const T = TEXTS[lang];
  const title = data.title || T.title;
  const botName = data.botName || T.bot;
  const MD = window.GuichetMarkdown; // carried in front of this file by /widget.js
  const KEY = "guichet:" + server;
  const store = safeStorage();

  function findScript() {
    const all = document.getElementsByTagName("script");
    for (let i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js([?#]|$)/.test(all[i].src)) return all[i];
    }
    return null;
  }

  function pickLang(tag) {
    const primary = String(tag || "").toLowerCase().split(/[-_]/)[0];
    return Object.prototype.hasOwnProperty.call(TEXTS, primary) ? primary : "en";
  }

  function safeStorage() {
    try {
      const s = window.localStorage;
      s.setItem("guichet:probe", "1");
      s.removeItem("guichet:probe");
      return {
        get: (k) => s.getItem(k),
        set: (k, v) => { try { s.setItem(k, v); } catch (e) { /* quota: keep going */ } },
        del: (k) => { try { s.removeItem(k); } catch (e) { /* ignore */ } },
      };
    } catch (e) { // storage disabled: remember for this page only
      const m = {};
      return { get: (k) => (k in m ? m[k] : null), set: (k, v) => { m[k] = v; }, del: (k) => { delete m[k]; } };
    }
  }

  // ------------------------------------------------------------------- state
  const state = {
    ws: null,
    ready: false, // welcome received on the current socket
    wanted: false, // connect (and stay connected)
    attempt: 0,
    timer: null,
    token: store.get(KEY + ":token"),
    visitorId: null,
    outbox: loadOutbox(), // unacked messages [{id, text, quick_reply}], oldest first
    rendered: new Map(), // server message id -> element
    pending: new Map(), // client id -> element
    inflight: null, // client id of the last message sent and not yet acked
    maxChars: 4000,
    maxBytes: 16384,
    open: false,
    unread: 0,
    typingOn: false,
    typingSentAt: 0,
    typingStop: null,
    remoteTyping: null,
    pingTimer: null,
    pongTimer: null,
  };

  function loadOutbox() {
    try {
      const items = JSON.parse(store.get(KEY + ":outbox") || "[]");
      return Array.isArray(items) ? items.filter((m) => m && typeof m.id === "string" && typeof m.text === "string") : [];
    } catch (e) {
      return [];
    }
  }

  function saveOutbox() {
    if (state.outbox.length) store.set(KEY + ":outbox", JSON.stringify(state.outbox));
    else store.del(KEY + ":outbox");
  }

  // --------------------------------------------------------------------- DOM
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const name in attrs || {}) node.setAttribute(name, attrs[name]);
    if (text != null) node.textContent = text;
    return node;
  }

  const root = el("div", { id: "guichet-root", lang: lang });
  root.style.display = "none"; // until our stylesheet is in
  const launcher = el("button", {
    id: "guichet-launcher", type: "button", "aria-controls": "guichet-panel",
    "aria-expanded": "false", "aria-label": T.open, title: title,
  });
  launcher.appendChild(bubbleIcon());
  const badge = el("span", { class: "guichet-badge", "aria-hidden": "true" });
  badge.hidden = true;
  launcher.appendChild(badge);

  const panel = el("section", { id: "guichet-panel", role: "dialog", "aria-labelledby": "guichet-title" });
  panel.hidden = true;
  const header = el("div", { class: "guichet-header" });
  header.appendChild(el("h2", { id: "guichet-title", class: "guichet-title" }, title));
  const closeButton = el("button", { type: "button", class: "guichet-close", "aria-label": T.close }, "×");
  header.appendChild(closeButton);
  // Connection state on its own line under the header: a long "Reconnecting…" never
  // squeezes or wraps the title.
  const status = el("div", { id: "guichet-status", role: "status" });
  status.hidden = true;
  const log = el("div", { id: "guichet-log", role: "log", "aria-live": "polite", tabindex: "0", "aria-label": title });
  const intro = el("p", { class: "guichet-intro" }, T.welcome);
  log.appendChild(intro);
  const typing = el("div", { id: "guichet-typing", "aria-live": "polite" }, T.typing);
  typing.hidden = true;
  const notice = el("div", { id: "guichet-notice", role: "alert" });
  notice.hidden = true;
  const form = el("form", { id: "guichet-form" });
  // No maxlength: the browser would cut a long paste silently.  Over the limit, the
  // counter and the notice say so and the message is refused, the text kept.
  const input = el("textarea", {
    id: "guichet-input", rows: "1", placeholder: T.placeholder, "aria-label": T.placeholder,
    "aria-describedby": "guichet-count",
  });
  const sendButton = el("button", { id: "guichet-send", type: "submit" }, T.send);
  const count = el("div", { id: "guichet-count", "aria-live": "polite" });
  count.hidden = true;
  form.appendChild(input);
  form.appendChild(sendButton);
  for (const part of [header, status, log, typing, notice, count, form]) panel.appendChild(part);
  root.appendChild(panel);
  root.appendChild(launcher);

  function bubbleIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  function mount() {
    const css = el("link", { rel: "stylesheet", href: server + "/widget.css" });
    css.addEventListener("load", () => { root.style.display = ""; });
    css.addEventListener("error", () => { root.style.display = ""; });
    document.head.appendChild(css);
    document.body.appendChild(root);
    if (state.token || state.outbox.length) connect(); // resume: history, unread badge
  }

  // -------------------------------------------------------------- rendering
  /** "{n} / {max}" with the numbers written for the visitor's language. */
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (all, key) =>
      (key in values ? Number(values[key]).toLocaleString(lang) : all));
  }

  /** The bot's and operators' Markdown, safely; customers' text as written. */
  function appendText(parent, author, text) {
    if (!MD) parent.appendChild(document.createTextNode(text)); // markdown.js missing: plain
    else parent.appendChild(author === "customer" ? MD.plain(text) : MD.render(text));
  }

  function timeOf(iso) {
    const d = iso ? new Date(iso) : new Date();
    return isNaN(d.getTime()) ? "" : d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  }

  function messageNode(author, authorName, text, iso) {
    const node = el("div", { class: "guichet-msg guichet-" + author });
    node.dataset.author = author;
    const name = authorName || (author === "bot" ? botName : "");
    if (author !== "customer" && name) node.appendChild(el("div", { class: "guichet-author" }, name));
    const body = el("div", { class: "guichet-text" });
    appendText(body, author, text);
    node.appendChild(body);
    node.appendChild(el("div", { class: "guichet-meta" }, timeOf(iso)));
    return node;
  }

  function renderMessage(m, live) {
    if (!m || typeof m !== "object" || m.id == null || state.rendered.has(m.id)) return;
    const author = AUTHORS.indexOf(m.author) >= 0 ? m.author : "bot";
    const node = messageNode(author, m.author_name, m.text || "", m.created_at);
    node.dataset.messageId = String(m.id);
    state.rendered.set(m.id, node);
    removeQuickReplies();
    insertBeforePending(node);
    if (author !== "customer" && Array.isArray(m.quick_replies) && m.quick_replies.length) {
      addQuickReplies(node, m.quick_replies);
    }
    if (author === "operator") hideRemoteTyping();
    if (live && author !== "customer" && !state.open) setUnread(state.unread + 1);
    scrollToLatest();
  }

  function insertBeforePending(node) {
    log.insertBefore(node, log.querySelector(".guichet-pending"));
  }

  function addQuickReplies(node, replies) {
    const box = el("div", { class: "guichet-quick-replies" });
    for (const q of replies) {
      if (!q || typeof q.id !== "string") continue;
      const button = el("button", { type: "button", class: "guichet-quick-reply" }, String(q.label || q.id));
      button.dataset.id = q.id;
      button.addEventListener("click", () => queueMessage(String(q.label || q.id), q.id));
      box.appendChild(button);
    }
    node.appendChild(box);
  }

  function removeQuickReplies() {
    for (const box of log.querySelectorAll(".guichet-quick-replies")) box.remove();
  }

  function renderPending(item) {
    const node = messageNode("customer", "", item.text, null);
    node.classList.add("guichet-pending");
    node.dataset.clientId = item.id;
    node.querySelector(".guichet-meta").textContent = T.sending;
    const old = state.pending.get(item.id);
    if (old) old.remove();
    state.pending.set(item.id, node);
    log.appendChild(node);
    scrollDown();
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  /** To the end, except that a long answer from the bot or an operator is shown from
   * its start (its author and title), not from its last line. */
  function scrollToLatest() {
    const messages = log.querySelectorAll(".guichet-msg");
    const last = messages[messages.length - 1];
    if (last && last.dataset.author !== "customer" && last.offsetHeight > log.clientHeight - 16) {
      log.scrollTop = last.offsetTop - 8; // #guichet-log is the offset parent
    } else {
      scrollDown();
    }
  }

  function setStatus(text) {
    status.textContent = text || "";
    status.hidden = !text;
  }

  /** A notice that goes away by itself, or stays until cleared when ``sticky``. */
  function showNotice(text, sticky) {
    notice.textContent = text || "";
    notice.hidden = !text;
    clearTimeout(showNotice.timer);
    if (text && !sticky) showNotice.timer = setTimeout(() => { notice.hidden = true; }, 8000);
  }

  /** The character counter near the limit, and what to do once over it. */
  function updateCount() {
    const n = input.value.length;
    const over = n > state.maxChars;
    count.hidden = n < state.maxChars * 0.8;
    count.textContent = fill(T.count, { n: n, max: state.maxChars });
    count.classList.toggle("guichet-over", over);
    if (over) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    if (!over && notice.dataset.kind === "too-long") {
      delete notice.dataset.kind;
      showNotice("");
    }
    return over;
  }

  function refuseTooLong() {
    showNotice(fill(T.tooLong, { n: input.value.length, max: state.maxChars }), true);
    notice.dataset.kind = "too-long";
    input.focus();
  }

  function setUnread(n) {
    state.unread = n;
    badge.textContent = n > 9 ? "9+" : String(n);
    badge.hidden = n === 0;
  }

  function errorText(code, fallback) {
    if (T.errors[code]) return T.errors[code];
    if (["invalid_json", "unknown_type", "invalid_frame", "binary_not_supported"].indexOf(code) >= 0) return T.errors.invalid;
    return fallback || T.errors.internal_error;
  }

  // ---------------------------------------------------------------- sending
  function newId() {
    const bytes = new Uint8Array(8);
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    return "m-" + Date.now().toString(36) + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function frameBytes(frame) {
    return new TextEncoder().encode(JSON.stringify(frame)).length;
  }

  function sendFrame(frame) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
    state.ws.send(JSON.stringify(frame));
    return true;
  }

  function sendItem(item) {
    const frame = { type: "message", id: item.id, text: item.text };
    if (item.quick_reply) frame.quick_reply = item.quick_reply;
    if (item.text.length > state.maxChars || frameBytes(frame) > state.maxBytes) {
      markFailed(item.id, T.errors.too_large, false);
      return;
    }
    if (state.ready && sendFrame(frame)) state.inflight = item.id;
  }

  function queueMessage(text, quickReply) {
    if (!text.trim()) return;
    const item = { id: newId(), text: text, quick_reply: quickReply || null };
    state.outbox.push(item);
    saveOutbox();
    renderPending(item);
    removeQuickReplies();
    stopTyping();
    if (state.ready) sendItem(item);
    else connect(true);
  }

  function markFailed(clientId, text, retryable) {
    const item = state.outbox.find((m) => m.id === clientId);
    state.outbox = state.outbox.filter((m) => m.id !== clientId);
    saveOutbox();
    const node = state.pending.get(clientId);
    if (!node) return;
    node.classList.remove("guichet-pending");
    node.classList.add("guichet-failed");
    const meta = node.querySelector(".guichet-meta");
    meta.textContent = text + " ";
    if (retryable && item) {
      const retry = el("button", { type: "button", class: "guichet-retry" }, T.retry);
      retry.addEventListener("click", () => {
        state.outbox.push(item);
        saveOutbox();
        renderPending(item);
        if (state.ready) sendItem(item);
        else connect(true);
      });
      meta.appendChild(retry);
    }
  }

  function onAck(f) {
    state.outbox = state.outbox.filter((m) => m.id !== f.id);
    saveOutbox();
    if (state.inflight === f.id) state.inflight = null;
    const node = state.pending.get(f.id);
    state.pending.delete(f.id);
    if (!node) return;
    if (state.rendered.has(f.message_id)) { // already shown from history
      node.remove();
      return;
    }
    node.classList.remove("guichet-pending");
    node.dataset.messageId = String(f.message_id);
    delete node.dataset.clientId;
    node.querySelector(".guichet-meta").textContent = timeOf(null);
    state.rendered.set(f.message_id, node);
    log.insertBefore(node, log.querySelector(".guichet-pending")); // before still-pending ones
  }

  // ----------------------------------------------------------------- typing
  function onInput() {
    if (!input.value) { stopTyping(); return; }
    const now = Date.now();
    if (state.ready && (!state.typingOn || now - state.typingSentAt > 3000)) {
      if (sendFrame({ type: "typing", on: true })) {
        state.typingOn = true;
        state.typingSentAt = now;
      }
    }
    clearTimeout(state.typingStop);
    state.typingStop = setTimeout(stopTyping, 4000);
  }

  function stopTyping() {
    clearTimeout(state.typingStop);
    if (state.typingOn) sendFrame({ type: "typing", on: false });
    state.typingOn = false;
  }

  function showRemoteTyping(on) {
    clearTimeout(state.remoteTyping);
    typing.hidden = !on;
    if (on) state.remoteTyping = setTimeout(hideRemoteTyping, 15000); // missed "off"
  }

  function hideRemoteTyping() {
    showRemoteTyping(false);
  }

  // ------------------------------------------------------------- connection
  /** Open the socket unless one is open; ``now`` skips a pending backoff (user action). */
  function connect(now) {
    state.wanted = true;
    if (state.ws) return;
    if (state.timer) {
      if (!now) return;
      clearTimeout(state.timer);
      state.timer = null;
    }
    setStatus(state.attempt ? T.reconnecting : T.connecting);
    let ws;
    try {
      ws = new WebSocket(wsUrl);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    ws.addEventListener("open", () => {
      const hello = { type: "hello", token: state.token || null, lang: lang };
      if (data.name) hello.name = data.name;
      if (data.userId) { hello.user_id = data.userId; hello.user_hash = data.userHash || ""; }
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener("message", (ev) => {
      if (state.ws !== ws || typeof ev.data !== "string") return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (frame && typeof frame === "object") onFrame(frame);
    });
    ws.addEventListener("close", (ev) => {
      if (state.ws !== ws) return; // a socket we already gave up on
      dropSocket();
      if (ev.code === CLOSE_BAD_TOKEN) {
        forgetVisitor();
        state.attempt = 0;
        connect(); // a fresh visitor, right away
        return;
      }
      if (ev.code === CLOSE_TOO_BIG) {
        showNotice(T.errors.too_large);
        if (state.inflight) markFailed(state.inflight, T.errors.too_large, false);
      }
      setStatus(T.reconnecting);
      scheduleReconnect();
    });
  }

  function dropSocket() {
    state.ws = null;
    state.ready = false;
    state.inflight = null;
    state.typingOn = false;
    clearInterval(state.pingTimer);
    clearTimeout(state.pongTimer);
    hideRemoteTyping();
  }

  function scheduleReconnect() {
    if (state.timer || !state.wanted) return;
    const base = Math.min(30000, 1000 * Math.pow(2, state.attempt));
    const delay = base / 2 + Math.random() * (base / 2); // "equal jitter"
    state.attempt += 1;
    state.timer = setTimeout(() => { state.timer = null; connect(); }, delay);
  }

  function forgetVisitor() {
    state.token = null;
    state.visitorId = null;
    store.del(KEY + ":token");
  }

  function onFrame(f) {
    switch (f.type) {
      case "welcome": onWelcome(f); break;
      case "ack": onAck(f); break;
      case "message": renderMessage(f.message, true); break;
      case "typing": if (f.author === "operator") showRemoteTyping(!!f.on); break;
      case "pong": clearTimeout(state.pongTimer); break;
      case "error": onError(f); break;
      default: break; // newer server: ignore what we do not know
    }
  }

  function onWelcome(f) {
    if (state.visitorId && f.visitor_id !== state.visitorId) clearLog();
    if (!state.visitorId && state.rendered.size) clearLog(); // token was dropped
    state.token = f.token;
    state.visitorId = f.visitor_id;
    store.set(KEY + ":token", f.token);
    if (f.limits) {
      state.maxChars = f.limits.max_message_chars || state.maxChars;
      state.maxBytes = f.limits.max_frame_bytes || state.maxBytes;
      updateCount();
    }
    (Array.isArray(f.history) ? f.history : []).forEach((m) => renderMessage(m, false));
    state.ready = true;
    state.attempt = 0;
    setStatus("");
    for (const item of state.outbox.slice()) {
      if (!state.pending.has(item.id)) renderPending(item);
      sendItem(item);
    }
    state.pingTimer = setInterval(heartbeat, 25000);
  }

  function clearLog() {
    state.rendered.forEach((node) => node.remove());
    state.rendered.clear();
  }

  function heartbeat() {
    const ws = state.ws;
    if (!sendFrame({ type: "ping" })) return;
    clearTimeout(state.pongTimer);
    state.pongTimer = setTimeout(() => { // no pong: the connection is dead
      if (state.ws !== ws) return;
      dropSocket();
      try { ws.close(); } catch (e) { /* already closing */ }
      scheduleReconnect();
    }, 10000);
  }

  function onError(f) {
    const text = errorText(f.code, f.message);
    if (f.code === "hello_required") return; // the welcome will come; outbox resends
    if (f.id && state.pending.has(f.id)) {
      if (state.inflight === f.id) state.inflight = null;
      markFailed(f.id, text, RETRYABLE.indexOf(f.code) >= 0);
      return;
    }
    if (f.code === "invalid_token" || f.code === "token_expired") forgetVisitor();
    showNotice(text);
  }

  // ----------------------------------------------------------------- events
  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    root.classList.toggle("guichet-open", open); // full screen on a phone (widget.css)
    launcher.setAttribute("aria-expanded", String(open));
    launcher.classList.toggle("guichet-active", open);
    if (open) {
      setUnread(0);
      connect(true);
      scrollToLatest();
      input.focus();
    }
  }

  launcher.addEventListener("click", () => setOpen(!state.open));
  closeButton.addEventListener("click", () => { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { setOpen(false); launcher.focus(); }
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    if (updateCount()) { refuseTooLong(); return; } // refused, never cut: the text stays
    input.value = "";
    updateCount();
    queueMessage(text, null);
    input.focus();
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  input.addEventListener("input", onInput);
  input.addEventListener("input", updateCount);
  window.addEventListener("online", () => {
    if (state.wanted && !state.ws) {
      state.attempt = 0;
      connect(true);
    }
  });

  window.GuichetWidget = { open: () => setOpen(true), close: () => setOpen(false), lang: lang, server: server };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
