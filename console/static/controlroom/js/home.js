import { LiveStream } from "./live.js";

function escapeText(value) {
  const span = document.createElement("span");
  span.textContent = value;
  return span.innerHTML;
}

function drawMap(element) {
  if (!element || !window.L) return;
  const map = L.map(element, { preferCanvas: true }).setView([47.322, 5.0415], 13);
  const tiles = element.dataset.tilesUrl;
  if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  fetch(element.dataset.sectorsUrl, { credentials: "same-origin" })
    .then((response) => response.json())
    .then((collection) => {
      const layer = L.geoJSON(collection, {
        style: { color: "#4aa3ff", weight: 2, fillOpacity: 0.08 },
        onEachFeature: (feature, shape) => shape.bindTooltip(escapeText(feature.properties.name)),
      }).addTo(map);
      if (collection.features.length) map.fitBounds(layer.getBounds());
    });
}

function startFeed() {
  const list = document.getElementById("live-feed");
  const state = document.getElementById("live-state");
  if (!list) return;
  const labels = JSON.parse(document.getElementById("live-labels").textContent);
  const stream = new LiveStream({
    onEvent: (event) => {
      const item = document.createElement("li");
      item.dataset.seq = event.seq;
      const time = new Date(event.time).toLocaleTimeString(document.documentElement.lang, { timeZone: "Europe/Paris" });
      item.textContent = `#${event.seq} · ${time} · ${event.type} · ${event.actor}`;
      list.prepend(item);
      while (list.children.length > 200) list.lastElementChild.remove();
    },
    onState: (name) => {
      state.dataset.state = name;
      state.textContent = labels[name] || name;
    },
    after: null,
  });
  window.liveStream = stream.start();
}

drawMap(document.getElementById("map"));
startFeed();
