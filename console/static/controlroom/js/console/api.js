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

/** A message that stays until it is closed (a refusal the operator must read). */
export function notify(message, { kind = "info", closeLabel = "×" } = {}) {
  const area = document.getElementById("notices") || document.body;
  const box = document.createElement("div");
  box.className = `notice ${kind}`;
  box.setAttribute("role", kind === "refused" ? "alert" : "status");
  const close = Object.assign(document.createElement("button"), {
    type: "button", className: "link close", textContent: "×",
  });
  close.setAttribute("aria-label", closeLabel);
  close.addEventListener("click", () => box.remove());
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = message;
  box.append(close, text);
  area.append(box);
  return box;
}

function modal(className, build) {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = `ask ${className}`;
    const form = document.createElement("form");
    form.method = "dialog";
    dialog.append(form);
    let value = null;
    const finish = (result) => { value = result; dialog.close(); };
    build(form, finish);
    // Esc, the cancel button and the confirm button all end here.
    dialog.addEventListener("close", () => { dialog.remove(); resolve(value); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function buttons(form, { confirmLabel, cancelLabel }, onConfirm, finish) {
  const box = document.createElement("div");
  box.className = "buttons";
  const cancel = Object.assign(document.createElement("button"), {
    type: "button", textContent: cancelLabel, className: "cancel",
  });
  cancel.addEventListener("click", () => finish(null));
  const ok = Object.assign(document.createElement("button"), {
    type: "submit", textContent: confirmLabel, className: "confirm",
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); onConfirm(); });
  box.append(cancel, ok);
  form.append(box);
  return ok;
}

/** Ask a yes/no question in the page (not window.confirm): resolves true or false. */
export async function confirmAction(message, { confirmLabel, cancelLabel }) {
  const answer = await modal("confirm", (form, finish) => {
    const text = document.createElement("p");
    text.textContent = message;
    form.append(text);
    buttons(form, { confirmLabel, cancelLabel }, () => finish(true), finish);
  });
  return answer === true;
}

/** Ask for a required text (a reason): resolves the trimmed text, or null if cancelled. */
export function askText(question, { confirmLabel, cancelLabel, required, maxLength = 300 }) {
  return modal("reason", (form, finish) => {
    const label = document.createElement("label");
    label.textContent = question;
    const input = document.createElement("textarea");
    input.name = "reason";
    input.rows = 3;
    input.maxLength = maxLength;
    input.required = true;
    label.append(input);
    const error = Object.assign(document.createElement("p"), { className: "error", hidden: true,
      textContent: required });
    error.setAttribute("role", "alert");
    form.append(label, error);
    buttons(form, { confirmLabel, cancelLabel }, () => {
      const text = input.value.trim();
      if (!text) { error.hidden = false; input.focus(); return; }
      finish(text);
    }, finish);
    setTimeout(() => input.focus(), 0);
  });
}

/** Ask for a reason with the console's labels: the trimmed text, or null if cancelled. */
export function askReason(labels, question) {
  return askText(question, { confirmLabel: labels.confirmReason, cancelLabel: labels.cancel,
    required: labels.reasonRequired });
}

/** Fill a translated template's %(name)s placeholders. */
export function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}
