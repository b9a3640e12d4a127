// The admin's place picker: a map under the latitude field of located objects (devices,
// cameras). A click, a dragged marker or Enter on the focused map fills latitude and longitude;
// typing them moves the marker. Works without tiles: the city's boundary is drawn.
(function () {
  "use strict";
  function start() {
    const box = document.querySelector(".place-picker");
    const lat = document.getElementById("id_lat");
    const lon = document.getElementById("id_lon");
    if (!box || !lat || !lon || !window.L) return;
    const config = JSON.parse(document.getElementById("place-picker-config").textContent);
    const element = box.querySelector(".place-picker-map");
    const status = box.querySelector(".place-picker-status");
    const map = L.map(element, { maxZoom: 19, minZoom: 10 }).setView(config.center, config.zoom);
    if (config.tiles) L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map);
    if (config.boundary) {
      L.geoJSON(config.boundary, { interactive: false,
        style: { color: "#417690", weight: 2, fillOpacity: 0.03 } }).addTo(map);
    }
    let marker = null;
    function show(latitude, longitude) {
      if (!marker) {
        marker = L.marker([latitude, longitude], { draggable: true, keyboard: true }).addTo(map);
        marker.on("dragend", () => {
          const point = marker.getLatLng();
          set(point.lat, point.lng);
        });
      } else {
        marker.setLatLng([latitude, longitude]);
      }
    }
    function set(latitude, longitude) {
      lat.value = latitude.toFixed(6);
      lon.value = longitude.toFixed(6);
      show(latitude, longitude);
      status.textContent = element.dataset.statusPlaced;
      lat.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function fromInputs() {
      const latitude = parseFloat(lat.value);
      const longitude = parseFloat(lon.value);
      if (Number.isFinite(latitude) && Number.isFinite(longitude)) {
        show(latitude, longitude);
        return [latitude, longitude];
      }
      return null;
    }
    const start = fromInputs();
    if (start) map.setView(start, 16);
    map.on("click", (event) => set(event.latlng.lat, event.latlng.lng));
    element.addEventListener("keydown", (event) => {
      if (event.target !== element || (event.key !== "Enter" && event.key !== " ")) return;
      event.preventDefault();
      const centre = map.getCenter();
      set(centre.lat, centre.lng);
    });
    lat.addEventListener("input", fromInputs);
    lon.addEventListener("input", fromInputs);
    element.dataset.ready = "1";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
