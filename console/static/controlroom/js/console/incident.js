// Open incidents: the list, and the incident view with its procedure stepper, dispatch panel,
// timeline and notes. The view re-reads its incident when the journal says it changed.

import { api, askReason, confirmAction, parisTime } from "./api.js";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

// Steps that act: done by acting (engaging, commanding, showing, drafting) or with a reason.
const ACTING = ["dispatch", "device_command", "show_cameras", "population_alert"];

export class Incidents {
  constructor({ list, panel, view, labels, config, onError, onIncident }) {
    this.list = list;
    this.panel = panel;
    this.view = view;
    this.labels = labels;
    this.config = config;
    this.onError = onError || (() => {});
    this.onIncident = onIncident || (() => {});
    this.incidents = new Map();
    this.shown = null;
    this.refreshTimer = null;
    list.addEventListener("click", (event) => {
      const item = event.target.closest("[data-incident-id]");
      if (item) this.show(Number(item.dataset.incidentId));
    });
    view.addEventListener("click", (event) => this.click(event));
    view.addEventListener("submit", (event) => this.submit(event));
  }

  load(incidents) {
    this.incidents = new Map(incidents.map((i) => [i.id, i]));
    this.renderList();
  }

  get open() {
    return [...this.incidents.values()]
      .filter((i) => ["new", "acknowledged", "dispatched", "on_scene"].includes(i.status))
      .sort((a, b) => a.priority - b.priority || Date.parse(b.created_at) - Date.parse(a.created_at));
  }

  renderList() {
    const l = this.labels;
    this.list.replaceChildren(...this.open.slice(0, 150).map((i) => el("li",
      { class: `incident p${i.priority}`, "data-incident-id": i.id, tabIndex: 0 },
      el("span", { class: `badge s${i.priority}` }, `P${i.priority}`), " ",
      el("strong", {}, i.title), el("br"),
      el("span", { class: "meta" }, `${i.reference} · ${i.category_label} · ${l.incidentStatus[i.status] || i.status}`),
    )));
    document.getElementById("count-incidents").textContent = this.open.length;
    const empty = document.getElementById("incidents-empty");
    if (empty) empty.hidden = this.open.length > 0;
  }

  /** A journal event about incident ``id``: re-read it (debounced when it is on screen). */
  async changed(id) {
    try {
      const { data } = await api(`/api/incidents/${id}/`);
      this.incidents.set(id, data);
      this.onIncident(data);
    } catch (error) {
      if (error.status === 404) this.incidents.delete(id); // no longer visible to this user
    }
    this.renderList();
    if (this.shown === id) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => this.show(id, { keepScroll: true }), 100);
    }
  }

  async show(id, { keepScroll = false } = {}) {
    try {
      const requests = [
        api(`/api/incidents/${id}/`), api(`/api/incidents/${id}/procedures/`),
        api(`/api/incidents/${id}/timeline/`),
      ];
      requests.push(this.config.mayDispatch ? api(`/api/incidents/${id}/suggestions/`) : { data: [] });
      const [incident, runs, timeline, suggestions] = (await Promise.all(requests)).map((r) => r.data);
      const cameras = this.config.mayViewCameras
        ? (await api(`/api/cameras/nearest/?lat=${incident.lat}&lon=${incident.lon}&limit=3`)).data : [];
      // Each pending dispatch step offers the units of the kind it asks for.
      const active = runs.find((r) => r.status === "active");
      const dispatchSteps = this.config.mayDispatch && active
        ? active.steps.filter((s) => s.kind === "dispatch" && s.status === "pending") : [];
      this.stepUnits = new Map(await Promise.all(dispatchSteps.map(async (s) =>
        [s.id, (await api(`/api/incidents/${id}/suggestions/?step=${s.id}`)).data])));
      this.nearCameras = cameras;
      if (this.shown !== id) this.unitSearch = null;
      this.shown = id;
      this.incidents.set(id, incident);
      const scroll = this.view.scrollTop;
      this.render(incident, runs, timeline, suggestions || [], cameras);
      if (keepScroll) this.view.scrollTop = scroll;
      this.panel.hidden = false;
      const none = document.getElementById("incident-none");
      if (none) none.hidden = true;
      this.view.dataset.incidentId = id;
    } catch (error) {
      this.onError(error.message);
    }
  }

  close() {
    this.shown = null;
    this.panel.hidden = true;
    const none = document.getElementById("incident-none");
    if (none) none.hidden = false;
  }

  render(incident, runs, timeline, suggestions, cameras = []) {
    const l = this.labels;
    const header = el("header", { class: `incident-head${incident.exercise ? " exercise" : ""}` },
      incident.exercise ? el("p", { class: "exercise-banner", role: "note" }, l.exerciseBanner) : null,
      el("h2", {}, el("span", { class: `badge s${incident.priority}` }, `P${incident.priority}`), " ", incident.title),
      el("p", { class: "meta" }, `${incident.reference} · ${incident.category_label} · `,
        el("strong", { class: "status" }, l.incidentStatus[incident.status] || incident.status),
        incident.sector_name ? ` · ${incident.sector_name}` : ""),
      incident.address ? el("p", {}, incident.address) : null,
      incident.description ? el("p", { class: "description" }, incident.description) : null,
      this.config.mayReplay ? el("p", { class: "meta" },
        el("a", { href: `/incidents/${incident.id}/compte-rendu/`, target: "_blank", rel: "noopener" },
          l.report), " · ",
        el("a", { href: `/console/replay/?incident=${incident.id}` }, l.replay)) : null,
      el("button", { type: "button", class: "link close", "data-action": "close" }, l.close),
    );
    const transitions = this.config.mayChangeIncidents
      ? el("div", { class: "transitions" }, ...incident.allowed_transitions.map((to) =>
        el("button", { type: "button", "data-action": "transition", "data-to": to }, l.transitions[to] || to)))
      : null;
    const run = runs.find((r) => r.status === "active") || runs[0];
    this.view.replaceChildren(header, transitions, this.stepper(run), this.dispatch(incident, suggestions),
      this.cameras(cameras), this.notes(), this.timeline(timeline));
  }

  stepper(run) {
    const l = this.labels;
    if (!run) return el("section", { class: "stepper" }, el("p", { class: "empty" }, l.noProcedure));
    const current = run.steps.find((s) => s.status === "pending");
    const may = this.config.mayRunProcedures && run.status === "active";
    const items = run.steps.map((step) => {
      const buttons = [];
      if (may && step.status === "pending") {
        if (step.kind === "question") {
          buttons.push(el("button", { type: "button", "data-action": "answer", "data-step": step.id, "data-answer": "yes" }, l.yes));
          buttons.push(el("button", { type: "button", "data-action": "answer", "data-step": step.id, "data-answer": "no" }, l.no));
        } else if (ACTING.includes(step.kind)) {
          // A step that acts is done by acting, or with the reason why not.
          buttons.push(...this.stepActions(step));
          buttons.push(el("button", { type: "button", "data-action": "not-done", "data-step": step.id }, l.steps.notDone));
        } else {
          buttons.push(el("button", { type: "button", "data-action": "complete", "data-step": step.id }, l.done));
        }
        // A mandatory step can only be passed over by a supervisor: nobody else is offered it.
        if (!step.mandatory || this.config.maySkipMandatory) {
          buttons.push(el("button", { type: "button", class: "link", "data-action": "skip", "data-step": step.id }, l.skip));
        }
      }
      const deadline = step.deadline_at && step.status === "pending" ? ` · ${l.before} ${parisTime(step.deadline_at)}` : "";
      const answer = step.answer === true ? ` · ${l.yes}` : step.answer === false ? ` · ${l.no}` : "";
      return el("li", {
        class: `step status-${step.status}${step === current ? " current" : ""}${step.overdue ? " overdue" : ""}${step.mandatory ? " mandatory" : ""}`,
        "data-step-id": step.id, "data-step-key": step.key,
      },
      el("div", { class: "instruction" }, step.instruction),
      el("div", { class: "meta" }, `${l.stepKinds[step.kind] || step.kind} · ${l.stepStatus[step.status] || step.status}${answer}${deadline}`),
      step.note ? el("div", { class: "note" }, step.note) : null,
      step.evidence && step.evidence.action === "none"
        ? el("div", { class: "note evidence" }, `${l.steps.withoutAction} : ${step.evidence.reason}`) : null,
      buttons.length ? el("div", { class: "actions" }, ...buttons) : null,
      may && step.status === "pending" && step.kind === "dispatch" && this.config.mayDispatch
        ? this.stepDispatch(step) : null);
    });
    const progress = run.progress;
    return el("section", { class: "stepper", "data-run": run.id },
      el("h3", {}, `${run.name} — ${progress.done}/${progress.total}`,
        progress.overdue ? el("span", { class: "badge s1" }, ` ${progress.overdue} ${l.overdue}`) : null),
      el("ol", { class: "steps" }, ...items));
  }

  /** The buttons that do a step that acts. */
  stepActions(step) {
    const l = this.labels;
    if (step.kind === "population_alert" && this.config.mayDraftAlerts) {
      return [el("button", { type: "button", "data-action": "draft-alert", "data-step": step.id }, l.draftAlert)];
    }
    if (step.kind === "device_command" && this.config.mayCommandDevices) {
      return [el("button", { type: "button", "data-action": "propose-device", "data-step": step.id }, l.proposeDevices)];
    }
    if (step.kind === "show_cameras" && this.config.mayViewLive) {
      return (this.nearCameras || []).map((camera) => el("button", {
        type: "button", "data-action": "step-camera", "data-step": step.id, "data-camera": camera.id,
      }, l.steps.showCamera.replace("%(name)s", camera.name)));
    }
    return [];
  }

  /** Under a pending dispatch step: the available units of its kind, nearest first, and a
   * search for any other available unit; each can be engaged for this step. */
  stepDispatch(step) {
    const l = this.labels;
    const unitItem = (s) => el("li", { "data-step-unit": s.unit.id },
      `${s.unit.call_sign} (${l.unitKind[s.unit.kind] || s.unit.kind} · ${s.unit.agency_name})`,
      s.eta_seconds != null ? ` · ${(s.distance_m / 1000).toFixed(1)} km · ${l.eta} ${Math.max(1, Math.round(s.eta_seconds / 60))} min ` : " ",
      el("button", { type: "button", "data-action": "step-assign", "data-step": step.id, "data-unit": s.unit.id }, l.assign));
    const offered = (this.stepUnits && this.stepUnits.get(step.id)) || [];
    const search = this.unitSearch && this.unitSearch.step === step.id ? this.unitSearch : null;
    const input = el("input", {
      type: "search", name: "q", maxLength: 60, value: search ? search.q : "",
      placeholder: l.steps.searchUnit, "aria-label": l.steps.searchUnit,
    });
    return el("div", { class: "step-dispatch" },
      offered.length ? el("ul", { class: "step-units" }, ...offered.map(unitItem))
        : el("p", { class: "empty" }, l.steps.noUnitOfKind),
      el("form", { class: "unit-search", "data-form": "unit-search", "data-step": step.id, role: "search" },
        input, el("button", { type: "submit" }, l.steps.search)),
      search ? (search.results.length ? el("ul", { class: "unit-results" }, ...search.results.map(unitItem))
        : el("p", { class: "empty" }, l.steps.noUnitFound)) : null);
  }

  dispatch(incident, suggestions) {
    const l = this.labels;
    const engaged = incident.units.map((u) => el("li", { "data-unit": u.unit },
      `${u.call_sign} · ${l.unitStatus[u.status] || u.status}`,
      // The arrival estimate matters only on the way: once on scene it is gone.
      u.eta_seconds && !u.on_scene_at && u.status !== "on_scene"
        ? ` · ${l.eta} ${Math.max(1, Math.round(u.eta_seconds / 60))} min` : ""));
    const offered = this.config.mayDispatch && incident.status !== "resolved"
      ? suggestions.map((s) => el("li", { "data-suggested-unit": s.unit.id },
        `${s.unit.call_sign} (${l.unitKind[s.unit.kind] || s.unit.kind}) · ${(s.distance_m / 1000).toFixed(1)} km · ${l.eta} ${Math.max(1, Math.round(s.eta_seconds / 60))} min `,
        el("button", { type: "button", "data-action": "assign", "data-unit": s.unit.id }, l.assign)))
      : [];
    return el("section", { class: "dispatch" }, el("h3", {}, l.units),
      engaged.length ? el("ul", { class: "engaged" }, ...engaged) : el("p", { class: "empty" }, l.noUnit),
      offered.length ? el("h4", {}, l.suggested) : null,
      offered.length ? el("ul", { class: "suggested" }, ...offered) : null);
  }

  /** The cameras nearest to the incident (a located sound, a citizen's report…): where to look. */
  cameras(cameras) {
    const l = this.labels;
    if (!cameras.length) return null;
    const items = cameras.map((camera) => el("li", { "data-near-camera": camera.id },
      `${camera.name} · ${camera.distance_m} m${camera.online ? "" : ` · ${l.offline}`} `,
      this.config.mayViewLive
        ? el("a", { href: `/video/cameras/${Number(camera.id)}/direct/`, target: "_blank", rel: "noopener" }, l.liveView)
        : null));
    return el("section", { class: "near-cameras" }, el("h3", {}, l.nearCameras), el("ul", {}, ...items));
  }

  notes() {
    const l = this.labels;
    return el("form", { class: "note-form", "data-form": "note" },
      el("textarea", { name: "text", rows: 2, maxLength: 4000, placeholder: l.notePlaceholder, required: true }),
      el("button", { type: "submit" }, l.addNote));
  }

  timeline(events) {
    const l = this.labels;
    return el("section", { class: "timeline" }, el("h3", {}, l.timeline),
      el("ol", { id: "incident-timeline" }, ...events.slice().reverse().map((e) => el("li", { "data-seq": e.seq },
        el("span", { class: "time" }, parisTime(e.time)), " ",
        el("span", { class: "what" }, l.eventTypes[e.type] || e.type), " ",
        el("span", { class: "detail" }, describe(e, l)), " ",
        el("span", { class: "who" }, `— ${e.actor}`)))));
  }

  async click(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = this.shown;
    const { action } = button.dataset;
    try {
      if (action === "close") return this.close();
      if (action === "transition") {
        const to = button.dataset.to;
        let reason = "";
        if (["cancelled"].includes(to) || (to === "acknowledged" && this.incidents.get(id)?.status === "resolved")) {
          reason = await askReason(this.labels, this.labels.reasonPrompt);
          if (!reason) return;
        }
        await api(`/api/incidents/${id}/transition/`, { method: "POST", body: { to, reason } });
      } else if (action === "assign") {
        await api(`/api/incidents/${id}/assign/`, { method: "POST", body: { units: [Number(button.dataset.unit)] } });
      } else if (action === "complete") {
        await api(`/api/procedure-steps/${button.dataset.step}/complete/`, { method: "POST", body: {} });
      } else if (action === "step-assign") {
        await api(`/api/procedure-steps/${button.dataset.step}/complete/`, {
          method: "POST", body: { unit: Number(button.dataset.unit) },
        });
        this.unitSearch = null;
      } else if (action === "not-done") {
        const reason = await askReason(this.labels, this.labels.steps.notDoneReason);
        if (!reason) return;
        await api(`/api/procedure-steps/${button.dataset.step}/complete/`, { method: "POST", body: { reason } });
      } else if (action === "step-camera") {
        const { data } = await api(`/api/procedure-steps/${button.dataset.step}/camera/`, {
          method: "POST", body: { camera: Number(button.dataset.camera) },
        });
        window.open(data.live_url, "_blank", "noopener");
      } else if (action === "answer") {
        await api(`/api/procedure-steps/${button.dataset.step}/answer/`, {
          method: "POST", body: { answer: button.dataset.answer === "yes" },
        });
      } else if (action === "draft-alert") {
        return this.alertForm(button);
      } else if (action === "propose-device") {
        return await this.proposeDevices(button);
      } else if (action === "confirm-device") {
        const field = button.closest(".device-proposal")?.querySelector("textarea[name=reason]");
        const reason = field ? field.value.trim() : "";
        if (field && !reason) {
          this.onError(this.labels.reasonRequired);
          field.focus();
          return;
        }
        await api(`/api/procedure-steps/${button.dataset.step}/device-proposal/`, {
          method: "POST", body: { reason },
        });
      } else if (action === "skip") {
        const reason = await askReason(this.labels, this.labels.reasonPrompt);
        if (!reason) return;
        await api(`/api/procedure-steps/${button.dataset.step}/skip/`, { method: "POST", body: { reason } });
      }
      await this.show(id, { keepScroll: true });
    } catch (error) {
      this.onError(error.message);
    }
  }

  /** Show, under a "device command" step, the command and the devices it would reach. */
  async proposeDevices(button) {
    const l = this.labels;
    const item = button.closest("li[data-step-id]");
    const { data } = await api(`/api/procedure-steps/${button.dataset.step}/device-proposal/`);
    const params = Object.entries(data.params).map(([k, v]) => `${k} : ${Array.isArray(v) ? v.join(" / ") : v}`).join(", ");
    const box = el("div", { class: "device-proposal" },
      el("p", {}, `${data.action_label} · ${data.kind_label}${params ? ` (${params})` : ""} · ${Math.round(data.radius_m)} m`,
        data.critical ? el("span", { class: "badge warn" }, ` ${l.needsApproval}`) : null),
      data.devices.length
        ? el("ul", {}, ...data.devices.map((d) => el("li", { "data-device": d.id },
          `${d.name} · ${d.distance_m} m${d.online ? "" : ` · ${l.offline}`}`)))
        : el("p", { class: "empty" }, l.noDevice),
      // A critical command goes to a supervisor, who decides on the operator's reason.
      data.critical && data.devices.length
        ? el("label", { class: "reason required" }, l.requestReasonLabel,
          el("textarea", { name: "reason", rows: 2, maxLength: 300, required: true }))
        : null,
      data.devices.length
        ? el("button", { type: "button", "data-action": "confirm-device", "data-step": data.step },
          l.confirmDevices.replace("%(count)s", data.devices.length))
        : null);
    item.querySelector(".device-proposal")?.remove();
    item.append(box);
  }

  /** The population alert of a procedure step: drafted here, issued by a supervisor. */
  alertForm(button) {
    const l = this.labels;
    const item = button.closest("li[data-step-id]");
    const incident = this.incidents.get(this.shown) || {};
    const select = (name, options, chosen) => el("select", { name },
      ...options.map((value) => el("option", value === chosen ? { value, selected: true } : { value }, value)));
    const field = (label, input) => el("label", {}, label, input);
    const form = el("form", { class: "population-form", "data-form": "population", "data-step": button.dataset.step },
      field(l.alertFields.event, el("input", { name: "event", required: true, maxLength: 120, value: incident.category_label || "" })),
      field(l.alertFields.headline, el("input", { name: "headline", required: true, maxLength: 140 })),
      field(l.alertFields.description, el("textarea", { name: "description", required: true, rows: 2, maxLength: 4000 })),
      field(l.alertFields.instruction, el("textarea", { name: "instruction", required: true, rows: 2, maxLength: 4000 })),
      field(l.alertFields.severity, select("severity", ["Extreme", "Severe", "Moderate", "Minor"], "Severe")),
      field(l.alertFields.urgency, select("urgency", ["Immediate", "Expected", "Future"], "Immediate")),
      field(l.alertFields.certainty, select("certainty", ["Observed", "Likely", "Possible"], "Observed")),
      field(l.alertFields.hours, select("hours", ["1", "3", "6", "12", "24"], "3")),
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "siren" }), ` ${l.alertFields.siren}`),
      el("p", { class: "meta" }, `${l.alertFields.area} : ${incident.sector_name || "—"}`),
      el("button", { type: "submit" }, l.alertFields.submit));
    item.querySelector(".population-form")?.remove();
    item.append(form);
    form.elements.headline.focus();
  }

  async submitAlert(form) {
    const l = this.labels;
    const incident = this.incidents.get(this.shown) || {};
    const f = form.elements;
    const body = {
      event: f.event.value, headline: f.headline.value, description: f.description.value,
      instruction: f.instruction.value, severity: f.severity.value, urgency: f.urgency.value,
      certainty: f.certainty.value, sector: incident.sector, incident: this.shown,
      step: Number(form.dataset.step), siren_pattern: f.siren.checked ? "alerte" : "",
      expires: new Date(Date.now() + Number(f.hours.value) * 3600e3).toISOString(),
    };
    const { data } = await api("/api/population-alerts/", { method: "POST", body });
    if (this.config.mayIssueAlerts && await confirmAction(
      l.confirmIssue.replace("%(headline)s", data.headline), { confirmLabel: l.issue, cancelLabel: l.notNow })) {
      await api(`/api/population-alerts/${data.id}/issue/`, { method: "POST" });
    }
    await this.show(this.shown, { keepScroll: true });
  }

  async searchUnits(form) {
    const q = form.elements.q.value.trim();
    const { data } = await api(`/api/incidents/${this.shown}/available-units/?q=${encodeURIComponent(q)}`);
    this.unitSearch = { step: Number(form.dataset.step), q, results: data };
    const box = form.closest(".step-dispatch");
    const step = this.unitSearch.step;
    box.replaceWith(this.stepDispatch({ id: step }));
    this.view.querySelector(`form[data-form="unit-search"][data-step="${step}"] input[name=q]`)?.focus();
  }

  async submit(event) {
    if (event.target.dataset.form === "unit-search") {
      event.preventDefault();
      try {
        await this.searchUnits(event.target);
      } catch (error) {
        this.onError(error.message);
      }
      return;
    }
    if (event.target.dataset.form === "population") {
      event.preventDefault();
      try {
        await this.submitAlert(event.target);
      } catch (error) {
        this.onError(error.message);
      }
      return;
    }
    if (event.target.dataset.form !== "note") return;
    event.preventDefault();
    const text = event.target.text.value;
    try {
      await api(`/api/incidents/${this.shown}/notes/`, { method: "POST", body: { text } });
      event.target.reset();
      await this.show(this.shown, { keepScroll: true });
    } catch (error) {
      this.onError(error.message);
    }
  }

  focusNote() {
    this.view.querySelector("textarea[name=text]")?.focus();
  }
}

// Words, never codes: statuses by their labels, a procedure step by its title (the unit it
// engaged after it).
function describe(event, l) {
  const p = event.payload || {};
  const type = event.type || "";
  if (p.text) return p.text;
  if (p.to) {
    const status = (code) => (l.incidentStatus || {})[code] || code;
    return `${status(p.from)} → ${status(p.to)}${p.reason ? ` (${p.reason})` : ""}`;
  }
  if (p.instruction) {
    const answer = p.answer === true ? ` : ${l.yes}` : p.answer === false ? ` : ${l.no}` : "";
    const extra = [p.reason || p.call_sign || p.note].filter(Boolean);
    return p.instruction + answer + (extra.length ? ` · ${extra.join(" · ")}` : "");
  }
  if (p.call_sign) {
    const status = type.startsWith("unit.") && p.status ? (l.unitStatus || {})[p.status] : "";
    return status ? `${p.call_sign} · ${status}` : p.call_sign;
  }
  if (p.title) return p.title;
  if (p.name) return p.name;
  return "";
}
