// The replay page: the console's map, incidents and wall screens as they were at an instant,
// rebuilt by the server from the journal; a slider and play/pause (1×, 10×, 60×) move the instant.
//
// One request for the state is in flight at a time: while it runs, the instant may move on, and
// the next request asks for wherever it has got to, so playback never queues stale frames.

import { api, escapeHtml, parisTime, showError } from "./api.js";
import { ConsoleMap } from "./map.js";

const config = JSON.parse(document.getElementById("console-config").textContent);
const labels = config.labels;
const replay = config.replay;
const $ = (id) => document.getElementById(id);

const LAYERS = { incidents: "incident", units: "unit", alerts: "alert", citizen_reports: "report",
  devices: "device", cameras: "camera" };
const TICK_MS = 200;

const map = new ConsoleMap($("console-map"), { labels, center: config.center, zoom: config.zoom });
const view = { start: 0, end: 0, at: 0, speed: 1, timer: null, loading: false, wanted: false,
  events: [], seq: null, filters: {} };


/** "2026-12-03T21:05:00" in the browser's time zone, for datetime-local inputs. */
function localInput(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
    `${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fullTime(ms) {
  return new Date(ms).toLocaleString(document.documentElement.lang || "fr", {
    timeZone: "Europe/Paris", dateStyle: "short", timeStyle: "medium" });
}

function query(extra) {
  const params = new URLSearchParams(extra);
  for (const [name, value] of Object.entries(view.filters)) if (value) params.set(name, value);
  return params.toString();
}

// --- the state at the current instant -----------------------------------------------------------
async function refresh() {
  if (view.loading) { view.wanted = true; return; }
  view.loading = true;
  try {
    do {
      view.wanted = false;
      const at = view.at;
      const { data } = await api(`${replay.stateUrl}?${query({ at: new Date(at).toISOString() })}`);
      draw(data, at);
    } while (view.wanted);
  } catch (error) {
    showError(error.message);
  } finally {
    view.loading = false;
  }
}

function draw(state, at) {
  for (const [name, kind] of Object.entries(LAYERS)) map.load(kind, state.layers[name]);
  $("replay-alerts").textContent = state.counts.alerts;
  $("replay-incidents-count").textContent = state.counts.incidents;
  $("replay-units").textContent = state.counts.units;
  drawIncidents(state.incidents);
  drawScreens(state.screens);
  markTimeline(at);
  view.seq = state.seq;
  document.body.dataset.replaySeq = String(state.seq);
  document.body.dataset.replayAt = new Date(at).toISOString();
}

function drawIncidents(incidents) {
  const list = $("replay-incidents");
  list.replaceChildren();
  if (!incidents.length) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = replay.labels.noIncident;
    list.append(empty);
    return;
  }
  for (const incident of incidents) {
    const item = document.createElement("li");
    item.className = `p${incident.priority}`;
    item.dataset.incident = incident.id;
    const procedure = incident.procedure;
    let steps = "";
    if (procedure) {
      const p = procedure.progress;
      const late = p.overdue ? ` · <span class="progress-late">${escapeHtml(
        replay.labels.overdue.replace("%(count)s", p.overdue))}</span>` : "";
      steps = `<div class="meta">${escapeHtml(procedure.name)} : ${escapeHtml(replay.labels.progress
        .replace("%(done)s", p.done).replace("%(total)s", p.total))}${late}</div>`;
    }
    const units = incident.units.map((u) => `${u.call_sign} (${labels.unitStatus[u.status === "on_scene" ?
      "on_scene" : "en_route"] || u.status})`).join(", ");
    item.innerHTML = `<strong>${escapeHtml(incident.reference)}</strong> · P${incident.priority} · ` +
      `${escapeHtml(labels.incidentStatus[incident.status] || incident.status)}<br>` +
      `${escapeHtml(incident.title)}<div class="meta">${escapeHtml(incident.category_label)}` +
      `${units ? ` · ${escapeHtml(units)}` : ""}</div>${steps}`;
    item.addEventListener("click", () => map.openPopup(`incident-${incident.id}`));
    list.append(item);
  }
}

function drawScreens(screens) {
  const list = $("replay-screens");
  list.replaceChildren();
  if (!screens.length) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = replay.labels.noScreen;
    list.append(empty);
  }
  for (const screen of screens) {
    const item = document.createElement("li");
    item.textContent = `${screen.name} : ${screen.camera_name}`;
    list.append(item);
  }
}

// --- the timeline -----------------------------------------------------------------------------
// Times have microseconds, the browser milliseconds: each event is placed one millisecond
// later, so that moving to it includes it.
async function loadTimeline() {
  const { data } = await api(`${replay.eventsUrl}?${query({
    start: new Date(view.start).toISOString(), end: new Date(view.end).toISOString() })}`);
  view.events = data.events.map((event) => ({ ...event, ms: Date.parse(event.time) + 1 }));
  const truncated = $("replay-truncated");
  truncated.hidden = !data.truncated;
  truncated.textContent = replay.labels.truncated.replace("%(count)s", data.events.length);
  const list = $("replay-timeline");
  list.replaceChildren(...view.events.map((event) => {
    const item = document.createElement("li");
    item.dataset.seq = event.seq;
    item.innerHTML = `<span class="time">${escapeHtml(parisTime(event.time))}</span> ` +
      `${escapeHtml(replay.eventTypes[event.type] || event.type)} <span class="who">` +
      `${escapeHtml(event.summary)} · ${escapeHtml(event.actor)}</span>`;
    item.addEventListener("click", () => moveTo(event.ms));
    event.element = item;
    return item;
  }));
}

function markTimeline(at) {
  let current = null;
  for (const event of view.events) {
    const past = event.ms <= at;
    event.element.classList.toggle("future", !past);
    event.element.classList.remove("current");
    if (past) current = event;
  }
  if (current) {
    current.element.classList.add("current");
    current.element.scrollIntoView({ block: "nearest" });
  }
}

// --- moving through time --------------------------------------------------------------------------
function moveTo(ms, { fromSlider = false } = {}) {
  view.at = Math.min(view.end, Math.max(view.start, ms));
  if (!fromSlider) {
    const span = view.end - view.start || 1;
    $("replay-slider").value = String(Math.round(((view.at - view.start) / span) * 1000));
  }
  $("replay-clock").textContent = fullTime(view.at);
  refresh();
}

function play(on) {
  const button = $("replay-play");
  clearInterval(view.timer);
  view.timer = null;
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? replay.labels.pause : replay.labels.play;
  if (!on) return;
  if (view.at >= view.end) moveTo(view.start);
  view.timer = setInterval(() => {
    const next = view.at + TICK_MS * view.speed;
    moveTo(next);
    if (next >= view.end) play(false);
  }, TICK_MS);
}

async function load() {
  const start = Date.parse($("replay-start").value);
  const end = Date.parse($("replay-end").value);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
    showError(replay.labels.at);
    return;
  }
  play(false);
  view.start = start;
  view.end = end;
  view.filters = { incident: $("replay-incident").value.trim(), sector: $("replay-sector").value };
  try {
    await loadTimeline();
  } catch (error) {
    showError(error.message);
    return;
  }
  moveTo(start);
}

$("replay-form").addEventListener("submit", (event) => { event.preventDefault(); load(); });
$("replay-slider").addEventListener("input", (event) => {
  const span = view.end - view.start;
  moveTo(view.start + (Number(event.target.value) / 1000) * span, { fromSlider: true });
});
$("replay-play").addEventListener("click", () => play(view.timer === null));
for (const button of document.querySelectorAll("[data-speed]")) {
  button.addEventListener("click", () => {
    view.speed = Number(button.dataset.speed);
    for (const other of document.querySelectorAll("[data-speed]")) {
      other.setAttribute("aria-pressed", String(other === button));
    }
  });
}

// For tests: what the replay shows.
window.controlRoomReplay = {
  view,
  hasFeature: (key) => map.has(key),
  featureCount: () => map.size,
  moveTo,
};

async function start() {
  await map.loadOutline();
  const last = replay.last ? Date.parse(replay.last) + 1000 : Date.now();
  const first = replay.first ? Date.parse(replay.first) : last - 3600_000;
  $("replay-start").value = localInput(Math.max(first - 1000, last - 3600_000));
  $("replay-end").value = localInput(last);
  await load();
  document.body.dataset.mapReady = "1";
}

start().catch((error) => showError(error.message));
