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

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, credentials: "same-origin" };
  if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
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
  if (!response.ok) {
    throw new ApiError(data?.message || `The server answered ${response.status}.`, response.status);
  }
  return data;
}
