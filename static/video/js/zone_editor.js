// A small polygon editor for a camera's zones, lines and privacy masks, drawn over its latest
// (masked) frame. Points are stored as proportions of the image (0..1), as the analysis expects.
(function () {
  "use strict";
  const COLOURS = { zone: "#2e7d32", line: "#1565c0", mask: "#000" };

  function parse(textarea) {
    try {
      const value = JSON.parse(textarea.value || "[]");
      return Array.isArray(value) ? value : [];
    } catch (error) {
      return null;
    }
  }

  function start() {
    const editor = document.querySelector("[data-editor]");
    const zonesField = document.getElementById("id_zones");
    const masksField = document.getElementById("id_masks");
    if (!editor || !zonesField || !masksField) return;
    const canvas = editor.querySelector("canvas");
    const img = editor.querySelector("img");
    const placeholder = editor.querySelector("[data-editor-placeholder]");
    const message = document.querySelector("[data-editor-message]");
    const kind = document.querySelector("[data-editor-kind]");
    const name = document.querySelector("[data-editor-name]");
    const context = canvas.getContext("2d");
    let points = [];

    function say(text) { message.textContent = text || ""; }

    function draw() {
      context.clearRect(0, 0, canvas.width, canvas.height);
      const shape = (pts, colour, closed, fill) => {
        if (!pts.length) return;
        context.beginPath();
        pts.forEach(([x, y], i) => {
          const px = x * canvas.width, py = y * canvas.height;
          if (i === 0) context.moveTo(px, py); else context.lineTo(px, py);
        });
        if (closed) context.closePath();
        context.strokeStyle = colour;
        context.lineWidth = 2;
        context.stroke();
        if (fill) { context.fillStyle = "rgba(0,0,0,.85)"; context.fill(); }
      };
      (parse(masksField) || []).forEach((polygon) => shape(polygon, COLOURS.mask, true, true));
      (parse(zonesField) || []).forEach((zone) => {
        shape(zone.points || [], COLOURS[zone.kind || "zone"], (zone.kind || "zone") === "zone");
        if (zone.points && zone.points.length) {
          context.fillStyle = COLOURS[zone.kind || "zone"];
          context.font = "14px sans-serif";
          context.fillText(zone.name, zone.points[0][0] * canvas.width + 4,
                           zone.points[0][1] * canvas.height + 14);
        }
      });
      shape(points, "#e65100", false, false);
      points.forEach(([x, y]) => {
        context.fillStyle = "#e65100";
        context.fillRect(x * canvas.width - 3, y * canvas.height - 3, 6, 6);
      });
    }

    canvas.addEventListener("click", (event) => {
      const rect = canvas.getBoundingClientRect();
      const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
      points.push([round((event.clientX - rect.left) / rect.width),
                   round((event.clientY - rect.top) / rect.height)]);
      draw();
    });
    document.querySelector("[data-editor-undo]").addEventListener("click", () => {
      points.pop();
      draw();
    });
    document.querySelector("[data-editor-finish]").addEventListener("click", () => {
      const chosen = kind.value;
      if (points.length < (chosen === "line" ? 2 : 3)) { say(editor.dataset.pointsNeeded); return; }
      if (chosen === "mask") {
        const masks = parse(masksField) || [];
        masks.push(points);
        masksField.value = JSON.stringify(masks);
      } else {
        if (!name.value.trim()) { say(editor.dataset.nameNeeded); return; }
        const zones = (parse(zonesField) || []).filter((z) => z.name !== name.value.trim());
        zones.push({ name: name.value.trim(), kind: chosen, points });
        zonesField.value = JSON.stringify(zones);
        name.value = "";
      }
      points = [];
      say("");
      draw();
    });
    document.querySelector("[data-editor-clear-masks]").addEventListener("click", () => {
      masksField.value = "[]";
      draw();
    });
    document.querySelector("[data-editor-clear-zones]").addEventListener("click", () => {
      zonesField.value = "[]";
      draw();
    });
    zonesField.addEventListener("input", draw);
    masksField.addEventListener("input", draw);

    async function refresh() {
      if (!editor.dataset.frameUrl) { say(editor.dataset.noFrame); return; }
      try {
        const response = await fetch(editor.dataset.frameUrl, { credentials: "same-origin",
                                                                 cache: "no-store" });
        if (response.status === 200) {
          const previous = img.src;
          img.src = URL.createObjectURL(await response.blob());
          if (previous) URL.revokeObjectURL(previous);
          img.hidden = false;
          placeholder.hidden = true;
          return;
        }
      } catch (error) { /* shown below */ }
      say(editor.dataset.noFrame);
      setTimeout(refresh, 3000);  // the worker starts publishing once the camera is watched
    }
    draw();
    refresh();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
