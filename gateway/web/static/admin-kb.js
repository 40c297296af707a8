// Knowledge-base admin page: articles, editor, upload, re-index progress, versions.
// Everything from the server is rendered with textContent, never as HTML.

import { api, ApiError } from "./console-api.js";

const BASE = "/api/admin/kb";
const $ = (id) => document.getElementById(id);
const CSRF = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
let editing = null; // id of the article loaded in the editor, null for a new one
let polling = null;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function notice(id, text, isError = false) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("error", isError);
  node.hidden = !text;
}

function errorText(err) {
  return err instanceof ApiError || err instanceof Error ? err.message : String(err);
}

// ------------------------------------------------------------------ articles

function articleRow(a) {
  const row = el("tr", null, "kb-article");
  row.dataset.id = a.id;
  row.dataset.editable = a.editable ? "yes" : "no";
  row.tabIndex = 0;
  row.append(el("td", a.id, "col-id"), el("td", a.title, "col-title"), el("td", a.lang),
    el("td", (a.tags || []).join(", ")), el("td", a.source, "col-source"));
  return row;
}

async function refreshArticles() {
  const data = await api("GET", `${BASE}/articles`);
  $("kb-articles").replaceChildren(...data.articles.map(articleRow));
  $("kb-count").textContent = String(data.articles.length);
  $("kb-error-list").replaceChildren(...data.errors.map((e) => {
    const li = el("li");
    li.append(el("code", e.path), document.createTextNode(`: ${e.reason}`));
    return li;
  }));
  $("kb-errors").hidden = data.errors.length === 0;
  markSelected();
}

function markSelected() {
  for (const row of document.querySelectorAll(".kb-article")) {
    row.classList.toggle("selected", row.dataset.id === editing);
  }
}

function fillEditor(a) {
  editing = a ? a.id : null;
  $("art-id").value = a ? a.id : "";
  $("art-id").readOnly = Boolean(a);
  $("art-title").value = a ? a.title : "";
  $("art-lang").value = a ? a.lang : "";
  $("art-tags").value = a ? (a.tags || []).join(", ") : "";
  $("art-body").value = a ? a.body : "";
  $("art-questions").value = a ? (a.questions || []).join("\n") : "";
  $("art-delete").disabled = !(a && a.deletable);
  const locked = Boolean(a) && !a.editable;
  $("art-save").disabled = locked;
  notice("art-message", locked ? `This article comes from ${a.source}: upload that file again to change it.` : "");
  markSelected();
}

async function openArticle(id) {
  try {
    fillEditor(await api("GET", `${BASE}/articles/${encodeURIComponent(id)}`));
  } catch (err) {
    notice("art-message", errorText(err), true);
  }
}

async function saveArticle(event) {
  event.preventDefault();
  const body = {
    id: $("art-id").value.trim(),
    title: $("art-title").value,
    lang: $("art-lang").value.trim(),
    tags: $("art-tags").value,
    body: $("art-body").value,
    questions: $("art-questions").value,
  };
  $("art-save").disabled = true;
  try {
    const data = editing
      ? await api("PUT", `${BASE}/articles/${encodeURIComponent(editing)}`, body)
      : await api("POST", `${BASE}/articles`, body);
    fillEditor(data.article);
    await refreshArticles();
    notice("art-message", `Saved to ${data.saved.path}. Re-index to publish it to the bot.`);
  } catch (err) {
    notice("art-message", errorText(err), true);
  } finally {
    $("art-save").disabled = false;
  }
}

async function deleteArticle() {
  if (!editing) return;
  try {
    const data = await api("DELETE", `${BASE}/articles/${encodeURIComponent(editing)}`);
    fillEditor(null);
    await refreshArticles();
    notice("art-message", `Deleted ${data.path}. Re-index to remove it from the bot.`);
  } catch (err) {
    notice("art-message", errorText(err), true);
  }
}

// -------------------------------------------------------------------- upload

async function upload() {
  const file = $("kb-upload-file").files[0];
  if (!file) {
    notice("kb-upload-message", "Choose a file first.", true);
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  $("kb-upload").disabled = true;
  try {
    const response = await fetch(`${BASE}/upload`, {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRF-Token": CSRF, Accept: "application/json" },
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(data?.message || `The server answered ${response.status}.`, response.status);
    const verb = data.replaced ? "Replaced" : "Added";
    notice("kb-upload-message", `${verb} ${data.filename}: ${data.articles.join(", ")}. Re-index to publish.`);
    $("kb-upload-file").value = "";
    await refreshArticles();
  } catch (err) {
    notice("kb-upload-message", errorText(err), true);
  } finally {
    $("kb-upload").disabled = false;
  }
}

// ------------------------------------------------------- re-index, versions

function showStatus(s) {
  const bar = $("kb-progress");
  if (s.total > 0) {
    bar.max = s.total;
    bar.value = s.done;
  } else if (s.running) {
    bar.removeAttribute("value"); // indeterminate while loading
  }
  if (s.stage === "done") {
    bar.max = 1;
    bar.value = 1;
  }
  const status = $("kb-status");
  status.dataset.stage = s.stage;
  const report = s.report || {};
  if (s.running) status.textContent = s.total ? `Re-indexing: ${s.stage} ${s.done}/${s.total}…` : `Re-indexing: ${s.stage}…`;
  else if (s.stage === "failed") status.textContent = `Re-index failed: ${s.error}`;
  else if (s.stage === "done") {
    status.textContent = `Done: version ${s.version} is live (${report.articles} articles, ` +
      `${report.reused} chunks reused, ${report.embedded} embedded, ${report.seconds} s).`;
  }
  $("kb-reindex").disabled = Boolean(s.running);
}

async function poll() {
  try {
    const s = await api("GET", `${BASE}/status`);
    showStatus(s);
    if (s.running) {
      polling = setTimeout(poll, 250);
      return;
    }
    polling = null;
    await refreshVersions();
  } catch (err) {
    $("kb-status").textContent = errorText(err);
    polling = setTimeout(poll, 2000);
  }
}

async function reindex() {
  $("kb-reindex").disabled = true;
  try {
    const data = await api("POST", `${BASE}/reindex`);
    showStatus(data.status);
    if (!polling) poll();
  } catch (err) {
    $("kb-status").textContent = errorText(err);
    $("kb-reindex").disabled = false;
  }
}

function versionRow(v) {
  const row = el("tr", null, `kb-version${v.current ? " current" : ""}`);
  row.dataset.version = v.version;
  const name = el("td", (v.created_at || "").slice(0, 19).replace("T", " "));
  name.title = v.embedder;
  if (v.current) name.append(document.createTextNode(" "), el("span", "live", "badge"));
  name.append(el("br"), el("small", v.version));
  const action = el("td");
  if (!v.current) {
    const button = el("button", "Roll back", "kb-rollback secondary");
    button.type = "button";
    button.title = "Roll back to this version";
    button.disabled = !v.usable;
    action.append(button);
  }
  row.append(name, el("td", v.articles), el("td", v.chunks), action);
  return row;
}

async function refreshVersions() {
  const data = await api("GET", `${BASE}/versions`);
  $("kb-versions").replaceChildren(...data.versions.map(versionRow));
  $("kb-versions-empty").hidden = data.versions.length > 0;
}

async function rollback(version) {
  try {
    await api("POST", `${BASE}/versions/${encodeURIComponent(version)}/activate`);
    $("kb-status").dataset.stage = "rollback";
    $("kb-status").textContent = `Version ${version} is live again.`;
  } catch (err) {
    $("kb-status").textContent = errorText(err);
  }
  await refreshVersions();
}

// ---------------------------------------------------------------------- wire

function start() {
  $("kb-articles").addEventListener("click", (e) => {
    const row = e.target.closest(".kb-article");
    if (row) openArticle(row.dataset.id);
  });
  $("kb-articles").addEventListener("keydown", (e) => {
    const row = e.target.closest(".kb-article");
    if (row && e.key === "Enter") openArticle(row.dataset.id);
  });
  $("kb-versions").addEventListener("click", (e) => {
    const button = e.target.closest(".kb-rollback");
    if (button) {
      button.disabled = true;
      rollback(button.closest(".kb-version").dataset.version);
    }
  });
  $("art-form").addEventListener("submit", saveArticle);
  $("art-new").addEventListener("click", () => fillEditor(null));
  $("art-delete").addEventListener("click", deleteArticle);
  $("kb-upload").addEventListener("click", upload);
  $("kb-reindex").addEventListener("click", reindex);
  document.body.dataset.ready = "yes";
  poll(); // picks up a build another admin (or an approval) started
}

start();
