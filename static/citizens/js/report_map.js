// The report form's map: touch the map (or "Me localiser") to place the marker, which fills the
// hidden latitude/longitude fields. Works with no tile server: the city boundary is drawn anyway.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const element = document.getElementById("report-map");
  const latInput = document.getElementById("id_lat");
  const lonInput = document.getElementById("id_lon");
  const status = document.getElementById("map-status");
  const labels = config.labels;
  const map = L.map(element, { maxZoom: 19, minZoom: 10 }).setView(config.center, config.zoom);
  if (config.tiles) L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map);

  let area = null;
  if (config.boundary) {
    area = L.geoJSON(config.boundary, { style: { color: "#0b5cad", weight: 2, fillOpacity: 0.04 } }).addTo(map);
    map.fitBounds(area.getBounds());
  }

  // Ray casting on the boundary's rings: the server checks again, this only spares a round trip.
  function inRing(lat, lon, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function inCity(lat, lon) {
    const geometry = config.boundary;
    if (!geometry) return true;
    const polygons = geometry.type === "MultiPolygon" ? geometry.coordinates : [geometry.coordinates];
    return polygons.some(([outer, ...holes]) => inRing(lat, lon, outer) && !holes.some((h) => inRing(lat, lon, h)));
  }

  let marker = null;
  function place(lat, lon, message) {
    if (!inCity(lat, lon)) {
      status.textContent = labels.outside;
      return;
    }
    if (!marker) {
      marker = L.marker([lat, lon], { draggable: true }).addTo(map);
      marker.on("dragend", () => {
        const point = marker.getLatLng();
        place(point.lat, point.lng, labels.chosen);
      });
    } else {
      marker.setLatLng([lat, lon]);
    }
    latInput.value = lat.toFixed(6);
    lonInput.value = lon.toFixed(6);
    status.textContent = message;
    element.dataset.placed = "1";
  }

  map.on("click", (event) => place(event.latlng.lat, event.latlng.lng, labels.chosen));
  if (latInput.value && lonInput.value) {
    place(parseFloat(latInput.value), parseFloat(lonInput.value), labels.chosen);
    map.setView([parseFloat(latInput.value), parseFloat(lonInput.value)], 17);
  }

  document.getElementById("locate-me").addEventListener("click", () => {
    if (!navigator.geolocation) {
      status.textContent = labels.denied;
      return;
    }
    status.textContent = labels.locating;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { latitude, longitude } = position.coords;
        place(latitude, longitude, labels.located);
        if (inCity(latitude, longitude)) map.setView([latitude, longitude], 17);
      },
      () => { status.textContent = labels.denied; },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  });
  // By name: a street or square of the city's list (a house number in front is allowed: the
  // marker goes to the street, and the citizen moves it to the exact place).
  const streets = JSON.parse(document.getElementById("city-streets").textContent);
  const search = document.getElementById("street-search");
  const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[-'’]/g, " ").replace(/\s+/g, " ").trim();
  function findStreet(text) {
    const wanted = fold(text).replace(/^\d+\s*(bis|ter)?\s*,?\s*/, "");
    if (!wanted) return null;
    return streets.find((s) => fold(s.name) === wanted)
      || streets.find((s) => fold(s.name).startsWith(wanted))
      || streets.find((s) => fold(s.name).includes(wanted)) || null;
  }
  function goToStreet() {
    if (!search.value.trim()) {
      status.textContent = labels.empty;
      return;
    }
    const street = findStreet(search.value);
    if (!street) {
      status.textContent = labels.unknown;
      return;
    }
    map.setView([street.lat, street.lon], 17);
    place(street.lat, street.lon, labels.street.replace("%(name)s", street.name));
    const details = document.getElementById("id_address_string");
    if (details && !details.value) details.value = search.value.trim();
  }
  document.getElementById("street-go").addEventListener("click", goToStreet);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault(); // not the whole form
      goToStreet();
    }
  });
  search.addEventListener("change", () => { if (findStreet(search.value)) goToStreet(); });

  // By keyboard: the map takes the focus, arrows move it (Leaflet), Enter or Space puts the
  // marker at its centre.
  function placeAtCentre() {
    const centre = map.getCenter();
    place(centre.lat, centre.lng, labels.chosen);
  }
  element.addEventListener("keydown", (event) => {
    if (event.target !== element) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      placeAtCentre();
    }
  });
  document.getElementById("place-centre").addEventListener("click", placeAtCentre);
  element.dataset.ready = "1";
})();
