// The crisis room: a shared situation map with drawing tools (Leaflet.draw, served locally), the
// logbook, decisions and tasks, linked incidents and key figures, all following the journal live.
//
// Every change goes through the API; the page then applies the journal event it causes, as every
// other participant's page does, so what one draws appears on all maps. Applying is idempotent
// (drawings are kept by id), so one's own change shown at once and again by its event is drawn
// once.

import { LiveStream } from "./live.js";
import { api, escapeHtml, parisTime, showError } from "./console/api.js";

const config = JSON.parse(document.getElementById("crisis-config").textContent);
const labels = config.labels;

// Leaflet.draw's tooltips and buttons in the page's language (from the translated catalogue).
function mergeInto(target, source) {
  for (const [key, value] of Object.entries(source || {})) {
    if (value && typeof value === "object" && target[key] && typeof target[key] === "object") mergeInto(target[key], value);
    else target[key] = value;
  }
}
if (window.L && L.drawLocal) mergeInto(L.drawLocal, config.drawLocal);
const $ = (id) => document.getElementById(id);
const STYLES = {
  perimeter: { color: "#ff4d4f", fillOpacity: 0.12 },
  evacuation_zone: { color: "#ff9f43", fillOpacity: 0.25, dashArray: "6 4" },
  closed_road: { color: "#b197fc", weight: 6 },
  assembly_point: {},
};

let detail = null;
const drawings = new Map();


// --- the map ---------------------------------------------------------------------------------------
const element = $("crisis-map");
const map = L.map(element, { maxZoom: 19, minZoom: 10 }).setView(config.center, config.zoom);
if (element.dataset.tilesUrl) L.tileLayer(element.dataset.tilesUrl, { maxZoom: 19 }).addTo(map);
const context = L.layerGroup().addTo(map);
const drawn = new L.FeatureGroup().addTo(map);

function drawingLayer(feature) {
  const kind = feature.properties.kind;
  const layer = L.geoJSON(feature, {
    style: () => STYLES[kind] || {},
    pointToLayer: (_f, latlng) => L.marker(latlng, { title: feature.properties.label || "" }),
  }).getLayers()[0];
  layer.drawingId = feature.properties.id;
  layer.drawingKind = kind;
  layer.drawingLabel = feature.properties.label || "";
  const name = labels.drawingKinds[kind] || kind;
  layer.bindTooltip(escapeHtml(layer.drawingLabel ? `${name} : ${layer.drawingLabel}` : name));
  return layer;
}

function upsertDrawing(feature) {
  removeDrawing(feature.properties.id);
  const layer = drawingLayer(feature);
  drawings.set(feature.properties.id, layer);
  drawn.addLayer(layer);
}

function removeDrawing(id) {
  const layer = drawings.get(id);
  if (!layer) return;
  drawn.removeLayer(layer);
  drawings.delete(id);
}

async function outline() {
  const sectors = await fetch(element.dataset.sectorsUrl, { credentials: "same-origin" })
    .then((r) => r.json());
  L.geoJSON(sectors, { style: { color: "#4aa3ff", weight: 1, fillOpacity: 0.03 },
    interactive: false }).addTo(map);
}

function drawContext() {
  context.clearLayers();
  if (detail.area) {
    const area = L.geoJSON(detail.area, { style: { color: "#ffd43b", weight: 2, fill: false },
      interactive: false }).addTo(context);
    map.fitBounds(area.getBounds());
  }
  for (const incident of detail.incidents) {
    L.circleMarker([incident.lat, incident.lon], { radius: 7, color: "#ff4d4f", fillOpacity: 0.9 })
      .bindTooltip(escapeHtml(`${incident.reference} · ${incident.title}`)).addTo(context);
  }
}

let drawControl = null;

function enableDrawing(open) {
  if (drawControl) { map.removeControl(drawControl); drawControl = null; }
  if (!open) return;
  drawControl = new L.Control.Draw({
    draw: { polygon: { allowIntersection: false, showArea: false }, polyline: true, marker: true,
      rectangle: false, circle: false, circlemarker: false },
    edit: { featureGroup: drawn },
  });
  map.addControl(drawControl);
}

const GEOMETRY = { perimeter: "Polygon", evacuation_zone: "Polygon", closed_road: "LineString",
  assembly_point: "Point" };

function kindFor(geometryType, preferred) {
  if (GEOMETRY[preferred] === geometryType) return preferred;
  return Object.keys(GEOMETRY).find((kind) => GEOMETRY[kind] === geometryType);
}

map.on(L.Draw.Event.CREATED, async (event) => {
  const geometry = event.layer.toGeoJSON().geometry;
  const kind = kindFor(geometry.type, $("drawing-kind").value);
  try {
    const { data } = await api(`${config.apiUrl}drawings/`, { method: "POST",
      body: { kind, label: $("drawing-label").value, geometry } });
    upsertDrawing(data);
    $("drawing-label").value = "";
  } catch (error) {
    showError(error.message);
  }
});

map.on(L.Draw.Event.EDITED, (event) => {
  event.layers.eachLayer(async (layer) => {
    try {
      const { data } = await api(`${config.apiUrl}drawings/${layer.drawingId}/`, { method: "PATCH",
        body: { kind: layer.drawingKind, label: layer.drawingLabel,
          geometry: layer.toGeoJSON().geometry } });
      upsertDrawing(data);
    } catch (error) {
      showError(error.message);
    }
  });
});

map.on(L.Draw.Event.DELETED, (event) => {
  event.layers.eachLayer(async (layer) => {
    drawings.delete(layer.drawingId);
    try {
      await api(`${config.apiUrl}drawings/${layer.drawingId}/`, { method: "DELETE" });
    } catch (error) {
      showError(error.message);
    }
  });
});

// --- the panels --------------------------------------------------------------------------------
function logItem(entry) {
  const item = document.createElement("li");
  item.dataset.entry = entry.id;
  const time = parisTime(entry.at);
  const corrected = entry.corrects ? detail.log.find((e) => e.id === entry.corrects) : null;
  const note = corrected ? `<em>${escapeHtml(labels.correctionOf.replace("%(time)s",
    parisTime(corrected.at)))} :</em> ` : "";
  item.innerHTML = `<span class="time">${escapeHtml(time)}</span> <span class="who">` +
    `${escapeHtml(entry.author)}${entry.agency ? ` (${escapeHtml(entry.agency)})` : ""}</span>` +
    `<br>${note}${escapeHtml(entry.text)}`;
  if (detail.status === "open") {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = labels.correct;
    button.addEventListener("click", () => {
      $("log-corrects").value = entry.id;
      const hint = $("log-correcting");
      hint.hidden = false;
      hint.textContent = labels.correctionOf.replace("%(time)s", time);
      $("log-text").focus();
    });
    item.append(" ", button);
  }
  return item;
}

function drawLog() {
  $("crisis-log").replaceChildren(...detail.log.slice().reverse().map(logItem));
}

function drawTasks() {
  const list = $("crisis-tasks");
  list.replaceChildren(...detail.tasks.map((task) => {
    const item = document.createElement("li");
    item.dataset.task = task.id;
    item.innerHTML = `<strong>${escapeHtml(labels.taskKinds[task.kind] || task.kind)}</strong> · ` +
      `${escapeHtml(task.title)}<div class="meta">${escapeHtml(task.agency_name || "")}</div>`;
    const mine = config.mayManage || (task.agency && task.agency === config.agency);
    if (task.kind === "task" && mine && detail.status === "open") {
      const select = document.createElement("select");
      select.setAttribute("aria-label", task.title);
      for (const [value, label] of Object.entries(labels.taskStatus)) {
        select.append(new Option(label, value, false, value === task.status));
      }
      select.addEventListener("change", () => api(`${config.apiUrl}tasks/${task.id}/`,
        { method: "PATCH", body: { status: select.value } }).catch((e) => showError(e.message)));
      item.append(select);
    } else {
      item.append(` · ${labels.taskStatus[task.status] || task.status}`);
    }
    return item;
  }));
}

function drawSide() {
  const f = detail.figures;
  $("crisis-figures").textContent = labels.figures.replace(/%\((\w+)\)s/g,
    (_m, name) => String(f[name] ?? ""));
  $("crisis-incidents").replaceChildren(...detail.incidents.map((incident) => {
    const item = document.createElement("li");
    item.className = `p${incident.priority}`;
    item.textContent = `${incident.reference} · ${incident.title} · ` +
      `${labels.incidentStatus[incident.status] || incident.status}`;
    return item;
  }));
  $("crisis-population").replaceChildren(...detail.population_alerts.map((alert) => {
    const item = document.createElement("li");
    item.textContent = `${parisTime(alert.sent)} · ${alert.headline} (${alert.area})`;
    return item;
  }));
  $("crisis-agencies").textContent = detail.agencies.map((a) => a.name).join(", ") || "—";
  const status = $("crisis-status");
  status.dataset.status = detail.status;
  if (detail.status !== "open") {
    status.textContent = labels.closed;
    for (const form of document.querySelectorAll("#log-form, #task-form, #close-form")) form.hidden = true;
  }
  drawLog();
  drawTasks();
}

async function load() {
  const { data } = await api(config.apiUrl);
  detail = data;
  drawContext();
  for (const id of [...drawings.keys()]) removeDrawing(id);
  for (const feature of detail.drawings.features) upsertDrawing(feature);
  drawSide();
  enableDrawing(detail.status === "open");
}

// Several events may arrive together (a closing revokes each agency): one reload for them all.
let reloading = null;
function reload() {
  if (!reloading) {
    reloading = new Promise((resolve) => setTimeout(resolve, 150))
      .then(load).catch((error) => showError(error.message)).finally(() => { reloading = null; });
  }
}

function applyEvent(event) {
  const subject = event.subject || {};
  // The key figures follow the linked incidents and the population alerts too.
  const linked = subject.model === "incident" && detail
    && detail.incidents.some((incident) => incident.id === Number(subject.id));
  if (linked || event.type === "population_alert.issued") {
    reload();
    return;
  }
  if (subject.model !== "crisis" || Number(subject.id) !== config.crisis) return;
  const p = event.payload || {};
  if (event.type === "crisis.drawing_saved") {
    upsertDrawing({ type: "Feature", geometry: p.geometry,
      properties: { id: p.drawing, kind: p.kind, label: p.label } });
  } else if (event.type === "crisis.drawing_removed") {
    removeDrawing(p.drawing);
  } else if (event.type === "crisis.log_added" && detail) {
    if (!detail.log.some((entry) => entry.id === p.entry)) {
      detail.log.push({ id: p.entry, at: event.time, author: p.author, agency: p.agency,
        text: p.text, corrects: p.corrects });
      drawLog();
    }
  } else if (event.type === "crisis.closed" && detail) {
    // Applied from the event itself: a liaison can no longer read the closed crisis.
    detail.status = "closed";
    detail.summary = p.summary;
    enableDrawing(false);
    drawSide();
  } else if (event.type !== "crisis.access_revoked") {
    reload();
  }
}

$("log-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const corrects = $("log-corrects").value;
  try {
    await api(`${config.apiUrl}log/`, { method: "POST",
      body: { text: $("log-text").value, corrects: corrects ? Number(corrects) : null } });
    $("log-text").value = "";
    $("log-corrects").value = "";
    $("log-correcting").hidden = true;
  } catch (error) {
    showError(error.message);
  }
});

$("task-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const agency = $("task-agency").value;
  try {
    await api(`${config.apiUrl}tasks/`, { method: "POST", body: { kind: $("task-kind").value,
      title: $("task-title").value, agency: agency ? Number(agency) : null } });
    $("task-title").value = "";
  } catch (error) {
    showError(error.message);
  }
});

$("close-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api(`${config.apiUrl}close/`, { method: "POST", body: { summary: $("close-summary").value } });
  } catch (error) {
    showError(error.message);
  }
});

const state = $("live-state");
const stream = new LiveStream({
  onEvent: applyEvent,
  onState: (name) => {
    state.dataset.state = name;
    state.textContent = labels.states[name] || name;
  },
  after: null,
});

// For tests: what the room shows.
window.crisisRoom = {
  drawingIds: () => [...drawings.keys()],
  drawingKind: (id) => drawings.get(id)?.drawingKind,
  logCount: () => (detail ? detail.log.length : 0),
};

async function start() {
  stream.start();
  await outline();
  await load();
  document.body.dataset.mapReady = "1";
}

start().catch((error) => showError(error.message));
