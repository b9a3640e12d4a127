// The alert inbox: open alerts, unacknowledged first, then the most serious, then the newest.
// Ages tick every second; a new alert of severity 1–2 flashes and sounds.

import { age, api, escapeHtml } from "./api.js";

// An operator works from the top of the list: drawing thousands of rows would only slow the
// console down when a crisis floods the inbox.
const SHOWN = 150;
// Alerts that arrived while the console was open stay on screen for this long whatever their rank.
const FRESH_MS = 10 * 60 * 1000;

function rank(a, b) {
  const unseen = (x) => (x.status === "new" ? 0 : 1);
  return unseen(a) - unseen(b) || a.severity - b.severity || Date.parse(b.received_at) - Date.parse(a.received_at);
}

function beep() {
  try {
    const context = new (window.AudioContext || window.webkitAudioContext)();
    const tone = context.createOscillator();
    const gain = context.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.08;
    tone.connect(gain).connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 0.25);
  } catch (_error) {
    // No sound without a user gesture on some browsers: the visual cue remains.
  }
}

export class Inbox {
  constructor(list, { labels, config, onChange, onOpenIncident, onError, incidentsForAttach, evidence }) {
    this.list = list;
    this.labels = labels;
    this.config = config;
    this.onChange = onChange || (() => {});
    this.onOpenIncident = onOpenIncident || (() => {});
    this.onError = onError || (() => {});
    this.incidentsForAttach = incidentsForAttach || (() => []);
    this.evidence = evidence || (() => "");
    this.alerts = new Map();
    this.arrived = new Map(); // alert id → when it arrived live
    this.selected = null;
    setInterval(() => this.tick(), 1000);
    list.addEventListener("click", (event) => this.click(event));
  }

  load(alerts) {
    this.alerts = new Map(alerts.map((alert) => [alert.id, alert]));
    this.render();
  }

  /** Apply a journal event about an alert. */
  apply(event) {
    const p = event.payload;
    const known = this.alerts.get(p.alert);
    const alert = {
      ...(known || { received_at: event.time }),
      id: p.alert, title: p.title, source: p.source, category: p.category, severity: p.severity,
      status: p.status, repeat_count: p.repeat_count, source_count: p.source_count || 1,
      lat: p.lat, lon: p.lon,
      evidence: p.evidence || (known && known.evidence) || {},
      exercise: p.exercise ?? (known && known.exercise) ?? null,
    };
    if (event.type === "alert.escalated") alert.escalated_at = event.time;
    if (p.escalated_at !== undefined) alert.escalated_at = p.escalated_at;
    if (alert.status === "new" || alert.status === "acknowledged") this.alerts.set(alert.id, alert);
    else this.alerts.delete(alert.id);
    const fresh = ["alert.received", "alert.repeated", "alert.grouped"].includes(event.type);
    if (fresh) this.arrived.set(alert.id, Date.now());
    this.render(fresh && alert.severity <= 2 ? alert.id : null);
    if (fresh && alert.severity <= 2) beep();
  }

  forget(id) {
    if (this.alerts.delete(id)) this.render();
  }

  get open() {
    return [...this.alerts.values()].sort(rank);
  }

  render(flashId = null) {
    const alerts = this.open;
    if (this.selected && !this.alerts.has(this.selected)) this.selected = null;
    // A form being filled in (dismiss reason, incident to attach) survives the redraw.
    const forms = new Map([...this.list.querySelectorAll("li[data-alert-id] > form")]
      .map((form) => [Number(form.parentElement.dataset.alertId), form]));
    const focused = document.activeElement;
    const since = Date.now() - FRESH_MS;
    const shown = alerts.filter((alert, index) => index < SHOWN || this.arrived.get(alert.id) > since);
    const rows = shown.map((alert) => {
      const item = this.item(alert, alert.id === flashId);
      if (forms.has(alert.id)) item.append(forms.get(alert.id));
      return item;
    });
    if (alerts.length > shown.length) {
      rows.push(Object.assign(document.createElement("li"), {
        className: "more",
        textContent: this.labels.more.replace("%(count)s", alerts.length - shown.length),
      }));
    }
    this.list.replaceChildren(...rows);
    if (focused && this.list.contains(focused)) focused.focus();
    document.getElementById("inbox-empty").hidden = alerts.length > 0;
    this.onChange(alerts);
  }

  /** Escalated: nobody acknowledged it in time and it went to the supervisors; once an operator
   * acknowledges it, it is handled and no longer shown as escalated. */
  static escalated(alert) {
    return Boolean(alert.escalated_at) && alert.status === "new";
  }

  item(alert, flash) {
    const l = this.labels;
    const li = document.createElement("li");
    li.dataset.alertId = alert.id;
    const escalatedNow = Inbox.escalated(alert);
    li.className = `alert severity-${alert.severity} status-${alert.status}` +
      (flash ? " flash" : "") + (alert.id === this.selected ? " selected" : "") +
      (escalatedNow ? " escalated" : "");
    li.tabIndex = -1;
    // Several sensors or cameras saw the same event: one alert, its sources counted.
    const sourceCount = alert.source_count || 1;
    const repeat = (sourceCount > 1
      ? ` <span class="sources" data-sources="${Number(sourceCount)}">${escapeHtml(l.sourceCount.replace("%(count)s", sourceCount))}</span>`
      : "") + (alert.repeat_count > sourceCount ? ` <span class="repeat">×${alert.repeat_count}</span>` : "");
    const escalated = escalatedNow ? ` <span class="badge warn escalated-badge">${escapeHtml(l.escalated)}</span>` : "";
    const drill = alert.exercise ? ` <span class="badge exercise">${escapeHtml(l.exercise)}</span>` : "";
    li.innerHTML =
      `<div class="line"><span class="badge s${alert.severity}">S${alert.severity}</span> ` +
      `<strong class="title">${escapeHtml(alert.title)}</strong>${repeat}${escalated}${drill}</div>` +
      `<div class="meta">${escapeHtml(l.alertSource[alert.source] || alert.source)} · ` +
      `${escapeHtml(l.alertStatus[alert.status] || alert.status)} · <span class="age" data-since="${escapeHtml(alert.received_at)}">${age(alert.received_at)}</span></div>` +
      this.citizenDetails(alert) + this.evidence(alert);
    if (this.config.mayHandleAlerts) li.append(this.actions(alert));
    return li;
  }

  /** What a citizen wrote, and a link to the reports (and photos) grouped on the alert. */
  citizenDetails(alert) {
    if (alert.source !== "citizen") return "";
    const evidence = alert.evidence || {};
    const text = typeof evidence.description === "string" && evidence.description
      ? `<div class="excerpt">${escapeHtml(evidence.description)}</div>` : "";
    const base = this.config.citizenReportsUrl;
    const link = base
      ? `<a class="reports-link" target="_blank" rel="noopener" href="${escapeHtml(base)}?alerte=${Number(alert.id)}&amp;etat=all">${escapeHtml(this.labels.citizenReports)}</a>`
      : "";
    return text || link ? `<div class="citizen">${text}${link}</div>` : "";
  }

  actions(alert) {
    const l = this.labels;
    const box = document.createElement("div");
    box.className = "actions";
    const button = (action, text) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.action = action;
      b.textContent = text;
      return b;
    };
    if (alert.status === "new") box.append(button("acknowledge", l.acknowledge));
    box.append(button("open-incident", l.openIncident), button("attach", l.attach), button("dismiss", l.dismiss));
    return box;
  }

  tick() {
    const now = Date.now();
    for (const span of this.list.querySelectorAll(".age")) span.textContent = age(span.dataset.since, now);
  }

  select(step) {
    const alerts = this.open;
    if (!alerts.length) return null;
    const index = alerts.findIndex((a) => a.id === this.selected);
    const next = alerts[Math.min(alerts.length - 1, Math.max(0, index + step))] || alerts[0];
    this.selected = next.id;
    this.render();
    this.list.querySelector(`[data-alert-id="${next.id}"]`)?.scrollIntoView({ block: "nearest" });
    return next;
  }

  current() {
    return this.alerts.get(this.selected) || this.open[0] || null;
  }

  async click(event) {
    const target = event.target.closest("button[data-action]");
    const item = event.target.closest("li[data-alert-id]");
    if (!item) return;
    const id = Number(item.dataset.alertId);
    this.selected = id;
    if (!target) {
      item.classList.add("selected");
      return;
    }
    await this.act(target.dataset.action, id, item);
  }

  async act(action, id, item = this.list.querySelector(`[data-alert-id="${id}"]`)) {
    try {
      if (action === "acknowledge") {
        await api(`/api/alerts/${id}/acknowledge/`, { method: "POST" });
      } else if (action === "open-incident") {
        const { data } = await api(`/api/alerts/${id}/open-incident/`, { method: "POST", body: {} });
        this.onOpenIncident(data.id);
      } else if (action === "dismiss") {
        this.showForm(item, "dismiss", id);
      } else if (action === "attach") {
        this.showForm(item, "attach", id);
      }
    } catch (error) {
      this.onError(error.message);
    }
  }

  /** Close an inline form (Esc, or its cancel button), back to its alert. */
  closeForm(form = this.list.querySelector("li[data-alert-id] > form")) {
    if (!form) return false;
    const item = form.parentElement;
    form.remove();
    item.focus();
    return true;
  }

  /** A small inline form: the reason to dismiss, or the incident to attach to. */
  showForm(item, kind, id) {
    if (!item || item.querySelector("form")) return;
    const l = this.labels;
    const form = document.createElement("form");
    form.className = "inline-form";
    const select = document.createElement("select");
    select.name = kind === "dismiss" ? "reason" : "incident";
    const options = kind === "dismiss"
      ? Object.entries(l.dismissReasons)
      : this.incidentsForAttach().map((i) => [i.id, `${i.reference} · ${i.title}`]);
    for (const [value, text] of options) select.append(new Option(text, value));
    form.append(select);
    if (kind === "dismiss") {
      const note = document.createElement("input");
      note.name = "note";
      note.placeholder = l.note;
      note.maxLength = 500;
      form.append(note);
    }
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = kind === "dismiss" ? l.dismiss : l.attach;
    const cancel = Object.assign(document.createElement("button"), { type: "button", className: "link",
      textContent: l.cancel });
    cancel.addEventListener("click", () => this.closeForm(form));
    form.append(submit, cancel);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        if (kind === "dismiss") {
          await api(`/api/alerts/${id}/dismiss/`, {
            method: "POST", body: { reason: select.value, note: form.note.value },
          });
        } else {
          await api(`/api/alerts/${id}/attach/`, { method: "POST", body: { incident: Number(select.value) } });
        }
      } catch (error) {
        this.onError(error.message);
      }
    });
    item.append(form);
    select.focus();
  }
}
