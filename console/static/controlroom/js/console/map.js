// The console map: city, sectors, and live layers of incidents, units and alerts.
//
// Features are kept by id ("incident-12", "unit-3", "alert-40") so that live events update a
// marker in place. Incidents and alerts are clustered; units are few and always shown.

import { escapeHtml } from "./api.js";

const PRIORITY_COLOURS = { 1: "#ff4d4f", 2: "#ff9f43", 3: "#ffd43b", 4: "#74c0fc" };
const UNIT_COLOURS = { available: "#4cd08a", en_route: "#ffb84d", on_scene: "#ff6b6b", unavailable: "#868e96" };
const SEVERITY_COLOURS = PRIORITY_COLOURS;
const REPORT_COLOURS = { received: "#63e6be", in_progress: "#3bc9db" };
const DEVICE_GLYPHS = {
  street_light: "☀", traffic_signal: "F", bollard: "B", message_panel: "P", siren: "S",
  noise_sensor: "♪", people_counter: "#", air_quality: "≈",
};
// One glyph per domain of the taxonomy, so the kind of incident reads at a glance.
const DOMAIN_GLYPHS = {
  voie_publique: "V", tranquillite: "T", securite: "S", secours: "+", population: "!",
  video: "◉", technique: "⚙",
};

// Clusters of incidents and alerts take the colour of the most serious thing they hold.
function worstClusterIcon(field) {
  return (cluster) => {
    let worst = null;
    for (const marker of cluster.getAllChildMarkers()) {
      const level = Number(marker.props && marker.props[field]);
      if (level >= 1 && level <= 4 && (worst === null || level < worst)) worst = level;
    }
    const count = cluster.getChildCount();
    const size = count < 10 ? "small" : count < 100 ? "medium" : "large";
    return L.divIcon({
      html: `<div><span>${count}</span></div>`,
      className: `marker-cluster marker-cluster-${size} priority-${worst || "none"}`,
      iconSize: L.point(40, 40),
    });
  };
}

// Other clusters (devices, cameras, reports) stay neutral: colour means priority on this map.
function neutralClusterIcon(cluster) {
  const count = cluster.getChildCount();
  return L.divIcon({
    html: `<div><span>${count}</span></div>`,
    className: "marker-cluster marker-cluster-small priority-none",
    iconSize: L.point(40, 40),
  });
}

// The local street plan: streets from zoom 13, their names from 15, places' names from 14.
const STREET_STYLES = {
  primary: { color: "#4b5a6e", weight: 6 },
  secondary: { color: "#3c4858", weight: 4 },
  water: { color: "#2a5d8a", weight: 5 },
};

function middle(coordinates) {
  const [lon, lat] = coordinates[Math.floor((coordinates.length - 1) / 2)];
  const [lon2, lat2] = coordinates[Math.floor(coordinates.length / 2)];
  return [(lat + lat2) / 2, (lon + lon2) / 2];
}

function dot(colour, className, text = "", glyph = "") {
  return L.divIcon({
    className: `marker ${className}`,
    html: `<span class="dot" style="background:${colour}">${escapeHtml(glyph)}</span>${text ? `<span class="tag">${escapeHtml(text)}</span>` : ""}`,
    iconSize: [18, 18],
    iconAnchor: [9, 9],
  });
}

export class ConsoleMap {
  constructor(element, { labels, center, zoom, onSelect, reportsUrl, devicePopup, cameraPopup }) {
    this.element = element;
    this.labels = labels;
    this.onSelect = onSelect || (() => {});
    this.map = L.map(element, { preferCanvas: true, maxZoom: 19, minZoom: 10 }).setView(center, zoom);
    const tiles = element.dataset.tilesUrl;
    if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(this.map);
    this.basemapUrl = tiles ? "" : (element.dataset.basemapUrl || "");
    const clusters = (radius, iconCreateFunction) => L.markerClusterGroup({
      chunkedLoading: true, maxClusterRadius: radius, iconCreateFunction,
    });
    this.layers = {
      incident: clusters(50, worstClusterIcon("priority")),
      alert: clusters(40, worstClusterIcon("severity")),
      report: clusters(40, neutralClusterIcon),
      device: clusters(30, neutralClusterIcon),
      camera: clusters(30, neutralClusterIcon),
      unit: L.layerGroup(),
    };
    this.markers = new Map();
    // Where a located sound may have come from: a circle of its uncertainty radius per alert.
    this.areas = new Map();
    this.areaLayer = L.layerGroup();
    this.sectors = L.layerGroup();
    for (const layer of [this.sectors, this.areaLayer, ...Object.values(this.layers)]) layer.addTo(this.map);
    L.control.layers(null, {
      [labels.layerNames.sectors]: this.sectors,
      [labels.layerNames.incidents]: this.layers.incident,
      [labels.layerNames.alerts]: this.layers.alert,
      [labels.layerNames.units]: this.layers.unit,
      [labels.layerNames.reports]: this.layers.report,
      [labels.layerNames.devices]: this.layers.device,
      [labels.layerNames.cameras]: this.layers.camera,
    }, { collapsed: false }).addTo(this.map);
    this.reportsUrl = reportsUrl || "";
    this.devicePopup = devicePopup || null;
    this.cameraPopup = cameraPopup || null;
    if (labels.legend) this.legend(labels.legend);
  }

  /** What the colours and glyphs mean, folded away on demand. */
  legend(l) {
    const control = L.control({ position: "bottomleft" });
    control.onAdd = () => {
      const box = L.DomUtil.create("details", "map-legend");
      box.open = true;
      box.id = "map-legend";
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      const swatch = (colour, text, square = false) =>
        `<li><span class="swatch${square ? " square" : ""}" style="background:${colour}"></span>${escapeHtml(text)}</li>`;
      box.innerHTML = `<summary>${escapeHtml(l.title)}</summary>` +
        `<h4>${escapeHtml(l.priority)}</h4><ul>` +
        [1, 2, 3, 4].map((p) => swatch(PRIORITY_COLOURS[p], l.levels[p] || String(p))).join("") + "</ul>" +
        `<h4>${escapeHtml(l.units)}</h4><ul>` +
        Object.entries(UNIT_COLOURS).map(([status, colour]) => swatch(colour, l.unitStatus[status] || status, true)).join("") +
        "</ul>" +
        `<ul>${swatch("#63e6be", l.reports, true)}${swatch("#b197fc", l.devices, true)}${swatch("#74c0fc", l.cameras)}</ul>` +
        `<p>${escapeHtml(l.clusters)}</p>`;
      return box;
    };
    control.addTo(this.map);
  }

  /** The local street plan (no tile server): streets and named places, labelled by zoom. */
  async loadBasemap() {
    if (!this.basemapUrl) return;
    const response = await fetch(this.basemapUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const plan = await response.json();
    this.map.createPane("basemap").style.zIndex = 250;
    this.map.createPane("basemapLabels").style.zIndex = 450;
    const renderer = L.svg({ pane: "basemap" });
    const streets = L.layerGroup();
    const streetNames = L.layerGroup();
    const placeNames = L.layerGroup();
    for (const feature of plan.features) {
      const { name, class: kind } = feature.properties;
      if (feature.geometry.type === "LineString") {
        const line = feature.geometry.coordinates.map(([lon, lat]) => [lat, lon]);
        streets.addLayer(L.polyline(line, { ...(STREET_STYLES[kind] || STREET_STYLES.secondary),
          renderer, interactive: false, className: `street street-${kind}` }));
        streetNames.addLayer(L.tooltip({ permanent: true, direction: "center", pane: "basemapLabels",
          className: "street-label" }).setLatLng(middle(feature.geometry.coordinates)).setContent(escapeHtml(name)));
      } else if (feature.geometry.type === "Point") {
        const [lon, lat] = feature.geometry.coordinates;
        placeNames.addLayer(L.tooltip({ permanent: true, direction: "top", pane: "basemapLabels",
          className: "place-label" }).setLatLng([lat, lon]).setContent(escapeHtml(name)));
      }
    }
    streets.addTo(this.map);
    this.basemap = { streets, streetNames, placeNames };
    const labelByZoom = () => {
      const zoom = this.map.getZoom();
      for (const [group, from] of [[streetNames, 15], [placeNames, 14]]) {
        if (zoom >= from && !this.map.hasLayer(group)) group.addTo(this.map);
        if (zoom < from && this.map.hasLayer(group)) group.remove();
      }
    };
    this.map.on("zoomend", labelByZoom);
    labelByZoom();
  }

  /** The class of the cluster (or marker) a feature is drawn in at the current zoom. */
  clusterClassOf(kind, key) {
    const marker = this.markers.get(key);
    const group = this.layers[kind];
    if (!marker || !group.getVisibleParent) return null;
    const parent = group.getVisibleParent(marker);
    if (!parent || parent === marker || !parent._icon) return null;
    return parent._icon.className;
  }

  async loadOutline() {
    this.loadBasemap().catch(() => {}); // a plain background if the plan cannot be read
    const [city, sectors] = await Promise.all([
      fetch(this.element.dataset.cityUrl, { credentials: "same-origin" }).then((r) => r.json()),
      fetch(this.element.dataset.sectorsUrl, { credentials: "same-origin" }).then((r) => r.json()),
    ]);
    const boundary = L.geoJSON(city, { style: { color: "#9aa4b2", weight: 2, fill: false } });
    boundary.addTo(this.map);
    L.geoJSON(sectors, {
      style: { color: "#4aa3ff", weight: 1, fillOpacity: 0.05 },
      onEachFeature: (feature, shape) => shape.bindTooltip(escapeHtml(feature.properties.name)),
    }).addTo(this.sectors);
    if (city.features.length) this.map.fitBounds(boundary.getBounds());
  }

  /** Replace a whole layer from a GeoJSON FeatureCollection. */
  load(kind, collection) {
    const group = this.layers[kind];
    group.clearLayers();
    for (const [id] of this.markers) if (id.startsWith(`${kind}-`)) this.markers.delete(id);
    const markers = collection.features.map((feature) => this.makeMarker(kind, feature.properties,
      feature.geometry.coordinates));
    if (group.addLayers) group.addLayers(markers); else markers.forEach((m) => group.addLayer(m));
  }

  makeMarker(kind, props, [lon, lat]) {
    if (kind === "alert") this.area(props.id, lat, lon, props.radius_m);
    const marker = L.marker([lat, lon], { icon: this.icon(kind, props), keyboard: false });
    marker.props = props;
    marker.bindPopup(() => this.popup(kind, marker.props));
    marker.on("click", () => this.onSelect(kind, marker.props.id));
    this.markers.set(`${kind}-${props.id}`, marker);
    return marker;
  }

  icon(kind, p) {
    const drill = p.exercise ? " exercise" : "";
    if (kind === "incident") {
      return dot(PRIORITY_COLOURS[p.priority] || "#ccc", `incident status-${p.status}${drill}`, "",
        DOMAIN_GLYPHS[p.domain] || "");
    }
    if (kind === "unit") return dot(UNIT_COLOURS[p.status] || "#ccc", "unit", p.call_sign);
    if (kind === "report") return dot(REPORT_COLOURS[p.status] || "#ccc", "report", "", "C");
    if (kind === "camera") {
      return dot(p.online ? "#74c0fc" : "#868e96", `camera${p.online ? "" : " offline"}`, "", "◉");
    }
    if (kind === "device") {
      return dot(p.online ? "#b197fc" : "#868e96", `device${p.online ? "" : " offline"}`, "",
        DEVICE_GLYPHS[p.device_kind] || "•");
    }
    const pulsing = p.status === "new" ? " pulsing" : "";
    return dot(SEVERITY_COLOURS[p.severity] || "#ccc", `alert${pulsing}${drill}`);
  }

  popup(kind, p) {
    const l = this.labels;
    if (kind === "device" && this.devicePopup) return this.devicePopup(p);
    if (kind === "camera" && this.cameraPopup) return this.cameraPopup(p);
    if (kind === "incident") {
      return `<strong>P${p.priority} · ${escapeHtml(p.category_label || p.category)}</strong><br>${escapeHtml(p.title)}<br>` +
        `${escapeHtml(l.incidentStatus[p.status] || p.status)}<br><a href="#incident-${p.id}" data-incident="${p.id}">${escapeHtml(l.open)}</a>`;
    }
    if (kind === "unit") {
      return `<strong>${escapeHtml(p.call_sign)}</strong><br>${escapeHtml(l.unitKind[p.unit_kind] || p.unit_kind)}<br>` +
        `${escapeHtml(l.unitStatus[p.status] || p.status)}${p.agency ? `<br>${escapeHtml(p.agency)}` : ""}`;
    }
    if (kind === "camera") {
      const analytics = (p.analytics || []).map((a) => l.videoRules[a] || a).join(", ");
      return `<strong>${escapeHtml(p.name)}</strong><br>${escapeHtml(p.online ? l.online : l.offline)}` +
        `${p.sensitive ? ` · ${escapeHtml(l.sensitive)}` : ""}${analytics ? `<br>${escapeHtml(analytics)}` : ""}`;
    }
    if (kind === "report") {
      const link = this.reportsUrl
        ? `<br><a href="${escapeHtml(this.reportsUrl)}${Number(p.id)}/" target="_blank" rel="noopener">${escapeHtml(l.open)}</a>` : "";
      return `<strong>${escapeHtml(p.service_name || p.service)}</strong><br>${escapeHtml(l.layerNames.reports)} · ` +
        `${escapeHtml(l.reportStatus[p.status] || p.status)}${link}`;
    }
    return `<strong>${escapeHtml(p.title)}</strong><br>${escapeHtml(l.alertSource[p.source] || p.source)} · S${p.severity}`;
  }

  /** Add or move a feature; ``props`` replace the previous ones. */
  upsert(kind, props, lat, lon) {
    const key = `${kind}-${props.id}`;
    const existing = this.markers.get(key);
    if (existing) {
      existing.props = { ...existing.props, ...props };
      if (kind === "alert") this.area(props.id, lat, lon, existing.props.radius_m);
      existing.setLatLng([lat, lon]);
      existing.setIcon(this.icon(kind, existing.props));
      if (this.layers[kind].refreshClusters) this.layers[kind].refreshClusters(existing);
      return;
    }
    this.layers[kind].addLayer(this.makeMarker(kind, props, [lon, lat]));
  }

  remove(kind, id) {
    const key = `${kind}-${id}`;
    const marker = this.markers.get(key);
    if (!marker) return;
    this.layers[kind].removeLayer(marker);
    this.markers.delete(key);
    if (kind === "alert") this.area(id, 0, 0, null);
  }

  /** Draw, move or drop the uncertainty circle of a located alert. */
  area(id, lat, lon, radius) {
    const existing = this.areas.get(id);
    const metres = Number(radius);
    if (!radius || !Number.isFinite(metres) || metres <= 0) {
      if (existing) { this.areaLayer.removeLayer(existing); this.areas.delete(id); }
      return;
    }
    if (existing) {
      existing.setLatLng([lat, lon]);
      existing.setRadius(metres);
      return;
    }
    const circle = L.circle([lat, lon], { radius: metres, color: "#ff6b6b", weight: 2,
      fillOpacity: 0.15, interactive: false, className: "sound-area" });
    this.areas.set(id, circle);
    this.areaLayer.addLayer(circle);
  }

  has(key) {
    return this.markers.has(key);
  }

  /** Open a feature's popup (zooming into its cluster if needed); false if unknown. */
  openPopup(key) {
    const marker = this.markers.get(key);
    if (!marker) return false;
    const group = this.layers[key.split("-")[0]];
    if (group && group.zoomToShowLayer) group.zoomToShowLayer(marker, () => marker.openPopup());
    else marker.openPopup();
    return true;
  }

  get size() {
    return this.markers.size;
  }

  focus(lat, lon) {
    this.map.setView([lat, lon], Math.max(this.map.getZoom(), 16));
  }
}
