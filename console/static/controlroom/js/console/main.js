// The operator console: wires the live journal stream to the map, the inbox and the incidents.
//
// Start-up follows the journal's rule: subscribe first, then read. Events that arrive while the
// initial layers load are kept and applied afterwards if they are newer than the layer's
// X-Journal-Seq; every update is an idempotent upsert, so nothing is shown twice.

import { LiveStream } from "../live.js";
import { api, showError } from "./api.js";
import { Incidents } from "./incident.js";
import { Inbox } from "./inbox.js";
import { Devices } from "./devices.js";
import { Video } from "./video.js";
import { soundEvidence } from "./sound.js";
import { ConsoleMap } from "./map.js";
import { chimes } from "./chime.js";

const config = JSON.parse(document.getElementById("console-config").textContent);
const labels = config.labels;
const wall = document.body.classList.contains("wall");
const state = document.getElementById("live-state");


// A new request for a supervisor: the pane lights up (and the chime sounds, see chime.js).
function flashApprovals() {
  const pane = document.getElementById("pane-approvals");
  if (!pane) return;
  pane.classList.remove("flash-pane");
  void pane.offsetWidth; // restart the animation
  pane.classList.add("flash-pane");
}

const devices = new Devices({
  approvals: wall ? null : document.getElementById("command-approvals"),
  drafts: wall ? null : document.getElementById("alert-drafts"), labels, config,
  onError: showError, onNewApproval: flashApprovals,
});

const video = new Video({
  approvals: wall ? null : document.getElementById("routing-approvals"), labels, config,
  onError: showError, onNewApproval: () => { devices.newApproval(); },
});

// The top bar counts what waits in the approvals pane, whatever its kind.
function countApprovals() {
  const pane = document.getElementById("pane-approvals");
  if (!pane) return;
  const waiting = String(pane.querySelectorAll("section:not([hidden]) > ol > li").length);
  // Only what changed is written: the observer below watches this pane.
  const count = document.getElementById("count-approvals");
  if (count.textContent !== waiting) count.textContent = waiting;
  const link = document.querySelector(".approvals-count");
  if (link.dataset.waiting !== waiting) link.dataset.waiting = waiting;
  const empty = document.getElementById("approvals-empty");
  if (empty.hidden !== (waiting !== "0")) empty.hidden = waiting !== "0";
}
if (!wall) {
  const observer = new MutationObserver(countApprovals);
  for (const section of document.querySelectorAll("#pane-approvals .pane-body > section")) {
    observer.observe(section, { subtree: true, childList: true, attributes: true,
      attributeFilter: ["hidden"] });
  }
  countApprovals();
}

const map = new ConsoleMap(document.getElementById("console-map"), {
  labels, center: config.center, zoom: config.zoom, reportsUrl: config.citizenReportsUrl,
  devicePopup: wall ? null : (props) => devices.popup(props),
  cameraPopup: wall ? null : (props) => video.popup(props),
  onSelect: (kind, id) => { if (kind === "incident" && incidents) incidents.show(id); },
});

const incidents = wall ? null : new Incidents({
  list: document.getElementById("incident-list"),
  panel: document.getElementById("incident-panel"),
  view: document.getElementById("incident-view"),
  labels, config, onError: showError,
  onIncident: (incident) => placeIncident(incident),
});

const inbox = wall ? null : new Inbox(document.getElementById("alert-inbox"), {
  labels, config, onError: showError,
  onChange: (alerts) => { document.getElementById("count-alerts").textContent = alerts.length; },
  onOpenIncident: (id) => incidents.show(id),
  incidentsForAttach: () => incidents.open,
  evidence: (alert) => video.evidence(alert) + soundEvidence(alert, labels),
});

function placeIncident(incident) {
  if (["closed", "cancelled"].includes(incident.status)) return map.remove("incident", incident.id);
  map.upsert("incident", {
    id: incident.id, title: incident.title, priority: incident.priority, status: incident.status,
    category: incident.category, category_label: incident.category_label,
    domain: incident.category_domain, exercise: incident.exercise,
  }, incident.lat, incident.lon);
}

const runningExercises = new Map((config.exercises || []).map((e) => [e.id, e.name]));

function exerciseBanner(event) {
  const p = event.payload || {};
  if (event.type === "exercise.started") runningExercises.set(p.exercise, p.name);
  else runningExercises.delete(p.exercise);
  const banner = document.getElementById("exercise-banner");
  if (!banner) return;
  if (runningExercises.size) {
    banner.hidden = false;
    document.getElementById("exercise-names").textContent = [...runningExercises.values()].join(", ");
  } else if (event.type !== "exercise.started") {
    banner.hidden = true;
  }
}

function applyEvent(event) {
  const p = event.payload || {};
  const subject = event.subject || {};
  if (event.type.startsWith("exercise.") && ["exercise.started", "exercise.finished",
    "exercise.purged"].includes(event.type)) {
    exerciseBanner(event);
    // What a purge deleted leaves the map and the inbox, as it leaves replay.
    const removed = (event.type === "exercise.purged" && p.removed) || {};
    for (const id of removed.alerts || []) {
      map.remove("alert", id);
      if (inbox) inbox.forget(id);
    }
    for (const id of removed.incidents || []) map.remove("incident", id);
    for (const id of removed.units || []) map.remove("unit", id);
    return;
  }
  if (event.type.startsWith("alert.")) {
    if (inbox) inbox.apply(event);
    if (p.status === "new" || p.status === "acknowledged") {
      const props = { id: p.alert, title: p.title, severity: p.severity, status: p.status,
        source: p.source, category: p.category, exercise: p.exercise };
      if (p.radius_m != null) props.radius_m = p.radius_m;
      map.upsert("alert", props, p.lat, p.lon);
    } else {
      map.remove("alert", p.alert);
    }
  } else if (event.type.startsWith("citizen_report.") && p.lat != null) {
    if (p.status === "received" || p.status === "in_progress") {
      map.upsert("report", { id: p.report, service: p.service, service_name: p.service_name,
        status: p.status, alert: p.alert }, p.lat, p.lon);
    } else {
      map.remove("report", p.report);
    }
  } else if (event.type.startsWith("device_command.")) {
    devices.apply(event);
  } else if (event.type.startsWith("population_alert.")) {
    devices.applyPopulation(event);
  } else if (event.type.startsWith("screen.")) {
    video.apply(event);
  } else if (event.type.startsWith("camera.") && p.lat != null) {
    map.upsert("camera", { id: p.camera, code: p.code, name: p.name, online: p.online,
      sensitive: p.sensitive, analytics: p.analytics }, p.lat, p.lon);
  } else if (event.type.startsWith("device.") && p.lat != null) {
    map.upsert("device", { id: p.device, code: p.code, name: p.name, device_kind: p.kind,
      online: p.online, state: p.state }, p.lat, p.lon);
  } else if (event.type.startsWith("unit.") && p.lat != null) {
    map.upsert("unit", { id: p.unit, call_sign: p.call_sign, unit_kind: p.kind, status: p.status },
      p.lat, p.lon);
  } else if (subject.app === "incidents" && subject.model === "incident") {
    const id = Number(subject.id);
    if (incidents) incidents.changed(id);
    else if (event.type === "incident.created" || event.type === "incident.status_changed") {
      api(`/api/incidents/${id}/`).then(({ data }) => placeIncident(data)).catch(() => map.remove("incident", id));
    }
  }
}

// Events are held until the first layers are in, then only those newer than the layers apply.
let pending = [];
let baseline = null;

const stream = new LiveStream({
  onEvent: (event) => {
    if (baseline === null) pending.push(event);
    else if (event.seq > baseline) applyEvent(event);
  },
  onState: (name) => {
    state.dataset.state = name;
    state.textContent = labels.states[name] || name;
  },
  after: null,
});

async function layer(name) {
  const response = await fetch(`/api/layers/${name}.geojson`, { credentials: "same-origin" });
  return { collection: await response.json(), seq: Number(response.headers.get("X-Journal-Seq")) };
}

async function start() {
  stream.start();
  const outline = map.loadOutline();
  const [incidentLayer, unitLayer, alertLayer, reportLayer, deviceLayer, cameraLayer] = await Promise.all(
    [layer("incidents"), layer("units"), layer("alerts"), layer("citizen_reports"), layer("devices"),
      layer("cameras")]);
  map.load("incident", incidentLayer.collection);
  map.load("unit", unitLayer.collection);
  map.load("alert", alertLayer.collection);
  map.load("report", reportLayer.collection);
  map.load("device", deviceLayer.collection);
  map.load("camera", cameraLayer.collection);
  if (!wall) {
    // The layers carry what the lists show: one read serves the map and the side panels.
    const properties = (collection) => collection.features.map((f) => ({
      ...f.properties, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1],
    }));
    inbox.load(properties(alertLayer.collection));
    incidents.load(properties(incidentLayer.collection));
  }
  await outline;
  baseline = Math.min(incidentLayer.seq, unitLayer.seq, alertLayer.seq, reportLayer.seq,
    deviceLayer.seq, cameraLayer.seq);
  if (!wall) {
    await Promise.all([devices.loadApprovals(), devices.loadDrafts(), video.loadScreens(),
      video.loadRoutings()]);
  }
  for (const event of pending) if (event.seq > baseline) applyEvent(event);
  pending = [];
  document.body.dataset.mapReady = "1";
}

// For wall screens, tests and benchmarks: what the console shows.
window.controlRoomConsole = {
  stream,
  featureCount: () => map.size,
  hasFeature: (key) => map.has(key),
  chimes: () => chimes.played,
  focus: (lat, lon, zoom) => map.map.setView([lat, lon], zoom, { animate: false }),
  clusterClass: (kind, key) => map.clusterClassOf(kind, key),
  openPopup: (key) => map.openPopup(key),
  soundArea: (alertId) => {
    const circle = map.areas.get(alertId);
    return circle ? { radius: circle.getRadius(), ...circle.getLatLng() } : null;
  },
};

// --- keyboard ------------------------------------------------------------------------------------
const help = document.getElementById("help-dialog");
document.getElementById("help-button")?.addEventListener("click", () => help.showModal());

document.addEventListener("keydown", (event) => {
  if (wall || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape") {
    // Esc closes what is open, innermost first: the help, an alert's inline form, the incident.
    if (help.open) { help.close(); event.preventDefault(); return; }
    if (document.querySelector("dialog[open]")) return; // its own cancel closes it
    if (inbox.closeForm(event.target.closest("#alert-inbox li > form") || undefined)) {
      event.preventDefault();
      return;
    }
    if (event.target.closest("input, textarea, select")) return;
    incidents.close();
    event.preventDefault();
    return;
  }
  if (event.target.closest("input, textarea, select")) return;
  if (document.querySelector("dialog[open]")) return;
  const alert = inbox.current();
  switch (event.key) {
    case "?": help.showModal(); break;
    case "j": inbox.select(1); break;
    case "k": inbox.select(-1); break;
    case "a": if (alert && alert.status === "new") inbox.act("acknowledge", alert.id); break;
    case "i": if (alert) inbox.act("open-incident", alert.id); break;
    case "d": if (alert) inbox.act("dismiss", alert.id); break;
    case "n": incidents.focusNote(); break;
    case "w": window.open(document.getElementById("open-wall").href, "_blank", "noopener"); break;
    default: return;
  }
  event.preventDefault();
});

document.addEventListener("click", (event) => {
  const count = event.target.closest(".console-bar a[data-pane]");
  if (count) {
    event.preventDefault();
    const pane = document.getElementById(count.dataset.pane);
    pane.scrollIntoView({ block: "nearest" });
    pane.querySelector("li, button")?.focus?.();
    return;
  }
  const link = event.target.closest("a[data-incident]");
  if (link && incidents) {
    event.preventDefault();
    incidents.show(Number(link.dataset.incident));
  }
});

start().catch((error) => showError(error.message));
