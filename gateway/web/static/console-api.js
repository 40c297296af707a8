// The console's JSON API client: CSRF header on writes, 401 sends to the login page.

const CSRF = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function loginUrl() {
  return `/console/login?next=${encodeURIComponent(location.pathname)}`;
}

/** What went wrong, in words: the server's own message when it sent one. */
function errorText(status, data) {
  const raw = typeof data?.message === "string" ? data.message.trim() : "";
  const message = raw && raw[0].toUpperCase() + raw.slice(1);
  const sentence = message && !/[.!?…]$/.test(message) ? `${message}.` : message;
  if (status >= 500) {
    return `The server had a problem (error ${status})${sentence ? `: ${sentence}` : "."} Try again in a moment.`;
  }
  if (status === 403) return sentence || "You are not allowed to do this.";
  if (status === 404) return sentence || "This no longer exists (it may have been deleted).";
  if (status === 409) return sentence || "Someone else changed this meanwhile; reload to see it.";
  if (status === 429) return sentence || "Too many requests: wait a moment and try again.";
  return sentence || `The server refused the request (error ${status}).`;
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, credentials: "same-origin" };
  if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    // fetch only rejects when no answer came at all ("Failed to fetch").
    throw new ApiError(
      "The server cannot be reached: check your network connection, or the server may be restarting.",
      0,
    );
  }
  if (response.status === 401) {
    location.assign(loginUrl());
    throw new ApiError("Your session ended; please log in again.", 401);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(errorText(response.status, data), response.status);
  return data;
}
