// The observatory's dashboard: fetches every figure for the page's filters once, then draws the
// tables, the charts (Chart.js, served locally), the hour-of-week grid and two Leaflet maps of
// H3 hexagons (what happened; what the forecast expects).

const config = JSON.parse(document.getElementById("observatory-config").textContent);
const labels = config.labels;
const columns = config.columns; // column titles from the translated catalogue, by row key
const root = document.getElementById("dashboard");
const number = new Intl.NumberFormat(document.documentElement.lang || "fr");

function table(id, keys, rows) {
  const element = document.getElementById(id);
  const head = document.createElement("tr");
  for (const key of keys) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = columns[key] || key;
    head.append(th);
  }
  const body = rows.map((row) => {
    const tr = document.createElement("tr");
    for (const key of keys) {
      const td = document.createElement("td");
      const value = row[key];
      td.textContent = value == null ? "—" : typeof value === "number" ? number.format(value) : value;
      tr.append(td);
    }
    return tr;
  });
  element.replaceChildren(head, ...body);
}

function bars(id, rows, key, label) {
  return new Chart(document.getElementById(id), {
    type: "bar",
    data: { labels: rows.map((r) => r[key]), datasets: [{ label, data: rows.map((r) => r.count),
      backgroundColor: "#4aa3ff" }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, animation: false },
  });
}

// A sequential palette, light (few) to dark (many); the text on a cell is black or white,
// whichever contrasts more with it (at least 4.5:1 either way).
const LIGHT = [239, 246, 252];
const DARK = [8, 48, 107];

function shadeRgb(value, max) {
  const t = max ? Math.min(1, value / max) : 0;
  return LIGHT.map((c, i) => Math.round(c + (DARK[i] - c) * t));
}

function shade(value, max) {
  const [r, g, b] = shadeRgb(value, max);
  return `rgb(${r}, ${g}, ${b})`;
}

function luminance([r, g, b]) {
  const lin = (c) => { const v = c / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

function textOn(rgb) {
  return luminance(rgb) > 0.179 ? "#000" : "#fff";
}

function hourOfWeek(grid) {
  const element = document.getElementById("hour-of-week");
  const max = Math.max(...grid.flat());
  const head = document.createElement("tr");
  const corner = document.createElement("th");
  corner.scope = "col";
  corner.textContent = labels.hour;
  head.append(corner);
  for (let h = 0; h < 24; h += 1) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = String(h);
    head.append(th);
  }
  const rows = grid.map((hours, day) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = labels.days[day];
    tr.append(th);
    for (const value of hours) {
      const td = document.createElement("td");
      td.textContent = value ? String(value) : "";
      const rgb = shadeRgb(value, max);
      td.style.background = `rgb(${rgb.join(", ")})`;
      td.style.color = textOn(rgb);
      tr.append(td);
    }
    return tr;
  });
  element.replaceChildren(head, ...rows);
}

function hexLayer(collection, key) {
  const max = Math.max(0, ...collection.features.map((f) => f.properties[key]));
  return L.geoJSON(collection, {
    style: (feature) => ({ color: "#0b0f14", weight: 0.5, fillOpacity: 0.75,
      fillColor: shade(feature.properties[key], max) }),
    onEachFeature: (feature, shape) => shape.bindTooltip(
      `${number.format(feature.properties[key])} ${key === "count" ? labels.count : labels.expected}`),
  });
}

/** The legend of a hexagon map: five steps of the palette and what they count. */
function legend(map, collection, key) {
  const max = Math.max(0, ...collection.features.map((f) => f.properties[key]));
  const control = L.control({ position: "bottomright" });
  control.onAdd = () => {
    const box = L.DomUtil.create("div", "map-legend");
    const title = document.createElement("p");
    title.className = "map-legend-title";
    title.textContent = key === "count" ? labels.legendCount : labels.legendExpected;
    box.append(title);
    if (!max) {
      const none = document.createElement("p");
      none.textContent = labels.noData;
      box.append(none);
      return box;
    }
    for (let step = 0; step <= 4; step += 1) {
      const value = (max * step) / 4;
      const row = document.createElement("p");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = shade(value, max);
      row.append(swatch, document.createTextNode(
        step === 0 ? labels.none : number.format(Math.round(value * 10) / 10)));
      box.append(row);
    }
    return box;
  };
  control.addTo(map);
  map.legend = control;
}

/** The sectors' outlines and names: a reader knows where a hexagon is without any tiles. */
async function placeNames(map) {
  const response = await fetch(root.dataset.sectorsUrl, { credentials: "same-origin" });
  if (!response.ok) return;
  const sectors = await response.json();
  L.geoJSON(sectors, {
    style: { color: "#343a40", weight: 1.5, fill: false, dashArray: "4 3" },
    interactive: false,
    onEachFeature: (feature, shape) => {
      const name = feature.properties && feature.properties.name;
      if (name) shape.bindTooltip(name, { permanent: true, direction: "center", className: "sector-name" });
    },
  }).addTo(map);
}

function hexMap(id, collection, key) {
  const element = document.getElementById(id);
  const map = L.map(element, { minZoom: 10, maxZoom: 17 }).setView(config.center, config.zoom);
  if (root.dataset.tilesUrl) L.tileLayer(root.dataset.tilesUrl, { maxZoom: 19 }).addTo(map);
  map.hexes = hexLayer(collection, key).addTo(map);
  if (collection.features.length) map.fitBounds(map.hexes.getBounds());
  legend(map, collection, key);
  placeNames(map).catch(() => {});
  return map;
}

/** A category selector on the heat map: redraws it for one category of the period. */
function categorySelector(map, categories) {
  const control = L.control({ position: "topright" });
  control.onAdd = () => {
    const select = L.DomUtil.create("select", "map-category");
    select.setAttribute("aria-label", labels.category);
    select.append(new Option(labels.allCategories, ""));
    for (const row of categories) select.append(new Option(row.label || row.category, row.category));
    L.DomEvent.disableClickPropagation(select);
    select.addEventListener("change", async () => {
      const url = new URL(root.dataset.figuresUrl, window.location.href);
      url.searchParams.set("only", "heatmap");
      url.searchParams.delete("category");
      if (select.value) url.searchParams.append("category", select.value);
      const response = await fetch(url, { credentials: "same-origin" });
      const data = await response.json();
      map.removeLayer(map.hexes);
      map.hexes = hexLayer(data.heatmap, "count").addTo(map);
      map.removeControl(map.legend);
      legend(map, data.heatmap, "count");
      document.body.dataset.heatmapCategory = select.value;
    });
    return select;
  };
  control.addTo(map);
}

async function start() {
  const response = await fetch(root.dataset.figuresUrl, { credentials: "same-origin" });
  const data = await response.json();
  if (!response.ok) throw new Error(data.detail || response.statusText);
  const period = document.getElementById("period");
  period.textContent = `${new Date(data.period.start).toLocaleDateString()} → ` +
    `${new Date(new Date(data.period.end) - 1).toLocaleDateString()}`;
  const categories = data.categories.map((row) => ({ ...row, code: row.category, category: row.label }));
  table("table-categories", ["category", "count"], categories);
  table("table-sectors", ["sector", "count"], data.sectors);
  bars("chart-categories", categories.slice(0, 12), "category", labels.count);
  bars("chart-sectors", data.sectors.slice(0, 12), "sector", labels.count);
  // The year-before line only where there are data a year before (null elsewhere: a gap).
  const datasets = [{ label: labels.count, data: data.trend.map((r) => r.count), borderColor: "#1c7ed6" }];
  if (data.trend.some((r) => r.last_year != null)) {
    datasets.push({ label: labels.lastYear, data: data.trend.map((r) => r.last_year),
      borderColor: "#495057", borderDash: [6, 4], spanGaps: false });
  }
  const trend = new Chart(document.getElementById("chart-trend"), {
    type: "line",
    data: { labels: data.trend.map((r) => new Date(r.week).toLocaleDateString()), datasets },
    options: { animation: false },
  });
  document.getElementById("chart-trend").dataset.series = String(trend.data.datasets.length);
  hourOfWeek(data.hour_of_week);
  table("table-response", ["sector", "shift", "incidents", "ack_p50", "ack_p90", "dispatch_p50",
    "dispatch_p90", "on_scene_p50", "on_scene_p90"], data.response_times);
  categorySelector(hexMap("heatmap", data.heatmap, "count"), data.categories);
  hexMap("forecast-map", data.forecast, "expected");
  for (const cell of document.querySelectorAll("td.epoch")) {
    cell.textContent = new Date(Number(cell.dataset.epoch) * 1000).toLocaleDateString();
  }
  document.body.dataset.ready = "1";
}

start().catch((error) => {
  const box = document.createElement("p");
  box.className = "toast error";
  box.setAttribute("role", "alert");
  box.textContent = error.message;
  document.body.append(box);
});
