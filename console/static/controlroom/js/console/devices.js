// Street devices in the console: a popup to command a device, and the supervisors' list of
// critical commands waiting for a second person. Commands and their results move live from
// the journal's device_command.* events.

import { api, escapeHtml } from "./api.js";

export class Devices {
  constructor({ approvals, drafts, labels, config, onError }) {
    this.approvals = approvals;
    this.drafts = drafts;
    this.pending = new Map(); // population alert drafts waiting for a supervisor
    this.labels = labels;
    this.config = config;
    this.kinds = config.deviceKinds || {};
    this.onError = onError || (() => {});
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
    if (p.status === "draft") this.pending.set(p.population_alert, { id: p.population_alert, ...p });
    else this.pending.delete(p.population_alert);
    this.renderDrafts();
  }

  renderDrafts() {
    if (!this.drafts) return;
    const rows = [...this.pending.values()].map((alert) => {
      const li = document.createElement("li");
      li.dataset.populationAlert = alert.id;
      li.innerHTML = `<strong>${escapeHtml(alert.headline)}</strong> <span class="meta">${escapeHtml(alert.severity)} · ${escapeHtml(alert.area_name || alert.area || "")}</span>` +
        `<div class="actions"><button type="button" data-issue="${Number(alert.id)}">${escapeHtml(this.labels.issue)}</button></div>`;
      return li;
    });
    this.drafts.replaceChildren(...rows);
    this.drafts.closest("section").hidden = rows.length === 0 || !this.config.mayIssueAlerts;
  }

  async issue(event) {
    const button = event.target.closest("button[data-issue]");
    if (!button) return;
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
        command: command.id, device: command.device, device_name: command.device_code,
        action: command.action, params: command.params, status: command.status,
      });
    }
    this.renderApprovals();
  }

  /** A journal event about a command. */
  apply(event) {
    const p = event.payload || {};
    if (!event.type.startsWith("device_command.")) return;
    this.lastCommand.set(p.device, { id: p.command, status: p.status, action: p.action, kind: p.kind, error: p.error });
    if (p.status === "awaiting_approval") this.waiting.set(p.command, p);
    else this.waiting.delete(p.command);
    this.renderApprovals();
    for (const line of document.querySelectorAll(`.device-popup[data-device-id="${Number(p.device)}"] .last-command`)) {
      line.textContent = this.describe(this.lastCommand.get(p.device));
    }
  }

  describe(last) {
    if (!last) return "";
    const kind = this.labels.commandStatus[last.status] || last.status;
    const action = this.actionLabel(last.kind, last.action);
    return `${this.labels.lastCommand} : ${action} · ${kind}${last.error ? ` (${last.error})` : ""}`;
  }

  renderApprovals() {
    if (!this.approvals) return;
    const card = this.approvals.closest("section");
    const rows = [...this.waiting.values()].map((p) => {
      const li = document.createElement("li");
      li.dataset.commandId = p.command;
      li.innerHTML = `<strong>${escapeHtml(p.device_name || p.device_code)}</strong> · ${escapeHtml(this.actionLabel(p.kind, p.action))}` +
        ` <span class="meta">${escapeHtml(JSON.stringify(p.params || {}))}</span>` +
        (this.config.mayApproveCommands
          ? `<div class="actions"><button type="button" data-decision="approve">${escapeHtml(this.labels.approve)}</button>` +
            `<button type="button" data-decision="reject">${escapeHtml(this.labels.reject)}</button></div>` : "");
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
      const reason = window.prompt(this.labels.rejectReason);
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
    const send = Object.assign(document.createElement("button"), { type: "submit", textContent: this.labels.send });
    form.append(select, fields, send);
    const renderFields = () => fields.replaceChildren(...this.paramInputs(spec.actions[select.value]));
    select.addEventListener("change", renderFields);
    renderFields();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(props.id, props.device_kind, select.value, spec.actions[select.value], form);
    });
    box.append(form);
    return box;
  }

  paramInputs(action) {
    return Object.entries(action.params).map(([name, param]) => {
      const label = document.createElement("label");
      label.textContent = `${param.label} `;
      let input;
      if (param.kind === "choice") {
        input = document.createElement("select");
        for (const choice of param.choices) input.append(new Option(this.stateValue(choice), choice));
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
    try {
      const { data } = await api(`/api/devices/${deviceId}/commands/`, { method: "POST", body: { action, params } });
      this.lastCommand.set(deviceId, { id: data.id, status: data.status, action: data.action, kind });
      const line = form.closest(".device-popup").querySelector(".last-command");
      if (line) line.textContent = this.describe(this.lastCommand.get(deviceId));
    } catch (error) {
      this.onError(error.message);
    }
  }
}
