// Street devices in the console: a popup to command a device, and the supervisors' list of
// critical commands waiting for a second person. Commands and their results move live from
// the journal's device_command.* events.

import { api, askText, confirmAction, escapeHtml, format, notify } from "./api.js";
import { chime } from "./chime.js";


export class Devices {
  constructor({ approvals, drafts, labels, config, onError, onNewApproval }) {
    this.approvals = approvals;
    this.drafts = drafts;
    this.pending = new Map(); // population alert drafts waiting for a supervisor
    this.labels = labels;
    this.config = config;
    this.kinds = config.deviceKinds || {};
    this.onError = onError || (() => {});
    this.onNewApproval = onNewApproval || (() => {});
    this.waiting = new Map(); // command id → payload, awaiting approval
    this.lastCommand = new Map(); // device id → { id, status, action }
    if (approvals) approvals.addEventListener("click", (event) => this.decide(event));
    if (drafts) drafts.addEventListener("click", (event) => this.issue(event));
  }

  async loadDrafts() {
    if (!this.drafts || !this.config.mayIssueAlerts) return;
    const { data } = await api("/api/population-alerts/?status=draft&limit=100");
    for (const alert of data.results) this.pending.set(alert.id, alert);
    this.renderDrafts();
  }

  /** A journal event about a population alert. */
  applyPopulation(event) {
    const p = event.payload || {};
    if (p.status === "draft") {
      const fresh = !this.pending.has(p.population_alert);
      this.pending.set(p.population_alert, { id: p.population_alert, ...p });
      if (fresh && event.type === "population_alert.drafted" && this.config.mayIssueAlerts
          && event.actor !== this.config.user) this.newApproval();
    } else {
      this.pending.delete(p.population_alert);
    }
    this.renderDrafts();
  }

  renderDrafts() {
    if (!this.drafts) return;
    const rows = [...this.pending.values()].map((alert) => {
      const li = document.createElement("li");
      li.dataset.populationAlert = alert.id;
      const l = this.labels;
      const incident = alert.incident
        ? ` · <a href="#incident-${Number(alert.incident)}" data-incident="${Number(alert.incident)}">${escapeHtml(alert.incident_reference || `#${alert.incident}`)}</a>` : "";
      li.innerHTML = `<strong>${escapeHtml(alert.headline)}</strong> <span class="meta">${escapeHtml(l.capSeverity[alert.severity] || alert.severity)} · ${escapeHtml(alert.area_name || alert.area || "")}</span>` +
        (alert.drafted_by_name ? `<div class="who meta">${escapeHtml(l.draftedBy)} ${escapeHtml(alert.drafted_by_name)}${incident}</div>` : "") +
        `<div class="actions"><button type="button" data-issue="${Number(alert.id)}">${escapeHtml(this.labels.issue)}</button></div>`;
      return li;
    });
    this.drafts.replaceChildren(...rows);
    this.drafts.closest("section").hidden = rows.length === 0 || !this.config.mayIssueAlerts;
  }

  async issue(event) {
    const button = event.target.closest("button[data-issue]");
    if (!button) return;
    const l = this.labels;
    const alert = this.pending.get(Number(button.dataset.issue)) || {};
    const sure = await confirmAction(format(l.confirmIssue, { headline: alert.headline || "" }),
      { confirmLabel: l.issue, cancelLabel: l.cancel });
    if (!sure) return;
    try {
      await api(`/api/population-alerts/${Number(button.dataset.issue)}/issue/`, { method: "POST" });
    } catch (error) {
      this.onError(error.message);
    }
  }

  async loadApprovals() {
    if (!this.approvals || !this.config.mayApproveCommands) return;
    const { data } = await api("/api/device-commands/?status=awaiting_approval&limit=100");
    for (const command of data.results) {
      this.waiting.set(command.id, {
        command: command.id, device: command.device, device_code: command.device_code,
        device_name: command.device_name, kind: command.device_kind, action: command.action,
        params: command.params, status: command.status, requested_by: command.requested_by,
        requested_by_name: command.requested_by_name, request_reason: command.request_reason,
        incident: command.incident, incident_reference: command.incident_reference,
        incident_title: command.incident_title,
      });
    }
    this.renderApprovals();
  }

  /** A journal event about a command. */
  apply(event) {
    const p = event.payload || {};
    if (!event.type.startsWith("device_command.")) return;
    this.lastCommand.set(p.device, { id: p.command, status: p.status, action: p.action, kind: p.kind,
      error: p.error, reason: p.reason });
    if (p.status === "awaiting_approval") {
      const fresh = !this.waiting.has(p.command);
      this.waiting.set(p.command, p);
      // A supervisor hears a new request, unless it is their own (they cannot approve it).
      if (fresh && this.config.mayApproveCommands && p.requested_by !== this.config.user) this.newApproval();
    } else {
      this.waiting.delete(p.command);
    }
    if (event.type === "device_command.rejected" && p.requested_by === this.config.user) this.refused(p);
    this.renderApprovals();
    for (const line of document.querySelectorAll(`.device-popup[data-device-id="${Number(p.device)}"] .last-command`)) {
      line.textContent = this.describe(this.lastCommand.get(p.device));
    }
  }

  describe(last) {
    if (!last) return "";
    const kind = this.labels.commandStatus[last.status] || last.status;
    const action = this.actionLabel(last.kind, last.action);
    const why = last.status === "rejected" && last.reason ? ` : « ${last.reason} »` : "";
    return `${this.labels.lastCommand} : ${action} · ${kind}${why}${last.error ? ` (${last.error})` : ""}`;
  }

  newApproval() {
    chime();
    this.onNewApproval();
  }

  /** The operator's own command was refused: say by whom and why, until they close it. */
  refused(p) {
    const l = this.labels;
    notify(format(l.refusedNotice, {
      device: p.device_name || p.device_code, action: this.actionLabel(p.kind, p.action),
      who: p.decided_by_name || "", reason: p.reason || "",
    }), { kind: "refused", closeLabel: l.close });
  }

  /** A command's parameters in words: "signal : essai", "lignes : ROUTE BARRÉE / …". */
  paramsText(kind, action, params) {
    const spec = ((this.kinds[kind] || {}).actions || {})[action] || { params: {} };
    return Object.entries(params || {}).map(([name, value]) => {
      const param = spec.params[name] || {};
      const shown = Array.isArray(value) ? value.join(" / ")
        : (param.choiceLabels && param.choiceLabels[value]) || value;
      return `${param.label || name} : ${shown}`;
    }).join(" · ");
  }

  renderApprovals() {
    if (!this.approvals) return;
    const l = this.labels;
    const card = this.approvals.closest("section");
    const rows = [...this.waiting.values()].map((p) => {
      const li = document.createElement("li");
      li.dataset.commandId = p.command;
      const params = this.paramsText(p.kind, p.action, p.params);
      const incident = p.incident
        ? ` · <a href="#incident-${Number(p.incident)}" data-incident="${Number(p.incident)}" class="incident-ref">${escapeHtml(p.incident_reference || `#${p.incident}`)}</a>${p.incident_title ? ` ${escapeHtml(p.incident_title)}` : ""}`
        : "";
      li.innerHTML = `<strong class="what">${escapeHtml(p.device_name || p.device_code)} — ${escapeHtml(this.actionLabel(p.kind, p.action))}</strong>` +
        (params ? `<div class="params">${escapeHtml(params)}</div>` : "") +
        `<div class="who meta">${escapeHtml(l.requestedBy)} ${escapeHtml(p.requested_by_name || p.requested_by || l.system)}${incident}</div>` +
        (p.request_reason ? `<div class="why" title="${escapeHtml(l.requestReason)}">${escapeHtml(p.request_reason)}</div>` : "") +
        (this.config.mayApproveCommands && p.requested_by !== this.config.user
          ? `<div class="actions"><button type="button" data-decision="approve">${escapeHtml(l.approve)}</button>` +
            `<button type="button" data-decision="reject">${escapeHtml(l.reject)}</button></div>` : "");
      return li;
    });
    this.approvals.replaceChildren(...rows);
    if (card) card.hidden = rows.length === 0;
  }

  /** Words for a state key and its value (booleans and coded values too), never the codes. */
  stateLabel(key) {
    const words = (this.config.deviceWords || {}).state || {};
    return words[key] || key.replace(/_/g, " ");
  }

  stateValue(value) {
    const words = (this.config.deviceWords || {}).values || {};
    if (Array.isArray(value)) return value.join(" / ");
    if (typeof value === "number") return new Intl.NumberFormat(document.documentElement.lang || "fr").format(value);
    const text = String(value);
    return words[text] || text;
  }

  actionLabel(kind, action) {
    const spec = this.kinds[kind];
    return (spec && spec.actions[action] && spec.actions[action].label) || action;
  }

  async decide(event) {
    const button = event.target.closest("button[data-decision]");
    if (!button) return;
    const id = Number(button.closest("li").dataset.commandId);
    const decision = button.dataset.decision;
    let body;
    if (decision === "reject") {
      const l = this.labels;
      const reason = await askText(l.rejectReason, { confirmLabel: l.reject, cancelLabel: l.cancel,
        required: l.reasonRequired });
      if (!reason) return;
      body = { reason };
    }
    try {
      await api(`/api/device-commands/${id}/${decision}/`, { method: "POST", body });
    } catch (error) {
      this.onError(error.message);
    }
  }

  /** The popup of a device on the map: its state, and a form to command it. */
  popup(props) {
    const spec = this.kinds[props.device_kind] || { label: props.device_kind, actions: {} };
    const box = document.createElement("div");
    box.className = "device-popup";
    box.dataset.deviceId = props.id;
    const state = Object.entries(props.state || {})
      .map(([key, value]) => `${escapeHtml(this.stateLabel(key))} : ${escapeHtml(this.stateValue(value))}`).join("<br>");
    box.innerHTML = `<strong>${escapeHtml(props.name)}</strong><br>${escapeHtml(spec.label)} · ` +
      `${escapeHtml(props.online ? this.labels.online : this.labels.offline)}` +
      (state ? `<div class="state-lines">${state}</div>` : "") +
      `<div class="last-command">${escapeHtml(this.describe(this.lastCommand.get(props.id)))}</div>`;
    const actions = Object.entries(spec.actions || {});
    if (!actions.length || !this.config.mayCommandDevices) return box;
    const form = document.createElement("form");
    form.className = "device-command";
    const select = document.createElement("select");
    select.name = "action";
    select.setAttribute("aria-label", this.labels.action);
    for (const [code, action] of actions) {
      select.append(new Option(action.label + (action.critical ? " ⚠" : ""), code));
    }
    const fields = document.createElement("div");
    fields.className = "params";
    // Why this command: asked (and required) when it needs a supervisor's approval.
    const reason = document.createElement("label");
    reason.className = "reason";
    const reasonInput = Object.assign(document.createElement("textarea"), { name: "reason", rows: 2, maxLength: 300 });
    reason.append(this.labels.requestReasonLabel, reasonInput);
    const send = Object.assign(document.createElement("button"), { type: "submit", textContent: this.labels.send });
    form.append(select, fields, reason, send);
    const critical = () => this.isCritical(props.device_kind, select.value, form);
    const showReason = () => {
      reason.hidden = !critical();
      reasonInput.required = !reason.hidden;
      reason.classList.toggle("required", !reason.hidden);
    };
    const renderFields = () => {
      fields.replaceChildren(...this.paramInputs(spec.actions[select.value]));
      showReason();
    };
    select.addEventListener("change", renderFields);
    fields.addEventListener("change", showReason);
    renderFields();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(props.id, props.device_kind, select.value, spec.actions[select.value], form);
    });
    box.append(form);
    return box;
  }

  /** Whether the command as filled in needs a supervisor (as the server decides it). */
  isCritical(kind, action, form) {
    const spec = ((this.kinds[kind] || {}).actions || {})[action];
    if (!spec) return false;
    if (spec.critical) return true;
    return Object.entries(spec.params || {}).some(([name, param]) =>
      (param.criticalValues || []).includes(form.elements[name] && form.elements[name].value));
  }

  paramInputs(action) {
    return Object.entries(action.params).map(([name, param]) => {
      const label = document.createElement("label");
      label.textContent = `${param.label} `;
      let input;
      if (param.kind === "choice") {
        input = document.createElement("select");
        for (const choice of param.choices) {
          const label = (param.choiceLabels && param.choiceLabels[choice]) || this.stateValue(choice);
          input.append(new Option(label, choice));
        }
      } else if (param.kind === "lines") {
        input = document.createElement("textarea");
        input.rows = 3;
      } else {
        input = Object.assign(document.createElement("input"), { type: "number", min: param.minimum, max: param.maximum });
        if (param.default != null) input.value = param.default;
      }
      input.name = name;
      input.dataset.kind = param.kind;
      label.append(input);
      return label;
    });
  }

  async send(deviceId, kind, action, spec, form) {
    const params = {};
    for (const name of Object.keys(spec.params)) {
      const input = form.elements[name];
      if (!input || input.value === "") continue;
      params[name] = input.dataset.kind === "int" ? Number(input.value)
        : input.dataset.kind === "lines" ? input.value.split("\n") : input.value;
    }
    const reason = form.elements.reason && !form.elements.reason.closest("label").hidden
      ? form.elements.reason.value.trim() : "";
    if (this.isCritical(kind, action, form) && !reason) {
      this.onError(this.labels.reasonRequired);
      form.elements.reason.focus();
      return;
    }
    try {
      const { data } = await api(`/api/devices/${deviceId}/commands/`, { method: "POST", body: { action, params, reason } });
      this.lastCommand.set(deviceId, { id: data.id, status: data.status, action: data.action, kind });
      const line = form.closest(".device-popup").querySelector(".last-command");
      if (line) line.textContent = this.describe(this.lastCommand.get(deviceId));
    } catch (error) {
      this.onError(error.message);
    }
  }
}
