// JSON calls to the control room's API with the session cookie and the CSRF token.

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export class ApiError extends Error {
  constructor(message, status, fields) {
    super(message);
    this.status = status;
    this.fields = fields || {};
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
  const response = await fetch(path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new ApiError((data && data.detail) || response.statusText, response.status, data && data.fields);
  }
  return { data, response };
}

/** A message that shows for a few seconds at the bottom of the screen. */
export function showError(message) {
  const box = document.createElement("div");
  box.className = "toast error";
  box.setAttribute("role", "alert");
  box.textContent = message;
  document.body.append(box);
  setTimeout(() => box.remove(), 6000);
}

/** Text for the screen: escaped, for the few places that build HTML strings (Leaflet popups). */
export function escapeHtml(value) {
  const span = document.createElement("span");
  span.textContent = value == null ? "" : String(value);
  return span.innerHTML;
}

/** "3 min 12 s" style age, from an ISO time. */
export function age(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${String(minutes % 60).padStart(2, "0")}`;
}

export function parisTime(iso) {
  return new Date(iso).toLocaleTimeString(document.documentElement.lang || "fr", {
    timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}
