// The observatory's dashboard: fetches every figure for the page's filters once, then draws the
// tables, the charts (Chart.js, served locally), the hour-of-week grid and two Leaflet maps of
// H3 hexagons (what happened; what the forecast expects).

const config = JSON.parse(document.getElementById("observatory-config").textContent);
const labels = config.labels;
const root = document.getElementById("dashboard");
const number = new Intl.NumberFormat(document.documentElement.lang || "fr");

function table(id, columns, rows) {
  const element = document.getElementById(id);
  const head = document.createElement("tr");
  for (const [, title] of columns) {
    const th = document.createElement("th");
    th.textContent = title;
    head.append(th);
  }
  const body = rows.map((row) => {
    const tr = document.createElement("tr");
    for (const [key] of columns) {
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

function shade(value, max) {
  const t = max ? value / max : 0;
  return `hsl(${220 - 220 * t}, 70%, ${18 + 30 * t}%)`;
}

function hourOfWeek(grid) {
  const element = document.getElementById("hour-of-week");
  const max = Math.max(...grid.flat());
  const head = document.createElement("tr");
  head.append(document.createElement("th"));
  for (let h = 0; h < 24; h += 1) {
    const th = document.createElement("th");
    th.textContent = String(h);
    head.append(th);
  }
  const rows = grid.map((hours, day) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = labels.days[day];
    tr.append(th);
    for (const value of hours) {
      const td = document.createElement("td");
      td.textContent = value ? String(value) : "";
      td.style.background = shade(value, max);
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

function hexMap(id, collection, key) {
  const element = document.getElementById(id);
  const map = L.map(element, { minZoom: 10, maxZoom: 17 }).setView(config.center, config.zoom);
  if (root.dataset.tilesUrl) L.tileLayer(root.dataset.tilesUrl, { maxZoom: 19 }).addTo(map);
  map.hexes = hexLayer(collection, key).addTo(map);
  if (collection.features.length) map.fitBounds(map.hexes.getBounds());
  return map;
}

/** A category selector on the heat map: redraws it for one category of the period. */
function categorySelector(map, categories) {
  const control = L.control({ position: "topright" });
  control.onAdd = () => {
    const select = L.DomUtil.create("select", "map-category");
    select.setAttribute("aria-label", labels.category);
    select.append(new Option(labels.allCategories, ""));
    for (const row of categories) select.append(new Option(row.category, row.category));
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
  table("table-categories", [["category", "Catégorie"], ["count", labels.count]], data.categories);
  table("table-sectors", [["sector", "Secteur"], ["count", labels.count]], data.sectors);
  bars("chart-categories", data.categories.slice(0, 12), "category", labels.count);
  bars("chart-sectors", data.sectors.slice(0, 12), "sector", labels.count);
  new Chart(document.getElementById("chart-trend"), {
    type: "line",
    data: { labels: data.trend.map((r) => r.week), datasets: [
      { label: labels.count, data: data.trend.map((r) => r.count), borderColor: "#4aa3ff" },
      { label: labels.lastYear, data: data.trend.map((r) => r.last_year), borderColor: "#868e96",
        borderDash: [6, 4] }] },
    options: { animation: false },
  });
  hourOfWeek(data.hour_of_week);
  table("table-response", [["sector", "Secteur"], ["shift", "Vacation"], ["incidents", "Incidents"],
    ["ack_p50", "Prise en compte p50"], ["ack_p90", "p90"], ["dispatch_p50", "Engagement p50"],
    ["dispatch_p90", "p90"], ["on_scene_p50", "Sur place p50"], ["on_scene_p90", "p90"]],
  data.response_times);
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
