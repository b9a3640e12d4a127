// Live frames: fetch the latest masked JPEG every `refreshMs` and show it in `img`.
// The answer's headers say which camera it is (wall screens switch without reloading);
// 204 means no frame yet (the camera's analysis is starting, or nothing is routed).
export function startFrames(img, url, refreshMs, onInfo = () => {}) {
  let previous = null;
  let stopped = false;
  async function tick() {
    if (stopped) return;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      const name = decodeURIComponent(response.headers.get("X-Camera-Name") || "");
      const online = response.headers.get("X-Camera-Online") === "1";
      if (response.status === 200) {
        const blob = await response.blob();
        const next = URL.createObjectURL(blob);
        img.src = next;
        img.hidden = false;
        if (previous) URL.revokeObjectURL(previous);
        previous = next;
        onInfo({ state: "live", name, online });
      } else if (response.status === 204) {
        img.hidden = true;
        onInfo({ state: name ? "waiting" : "empty", name, online });
      } else {
        img.hidden = true;
        onInfo({ state: "error", name, online, status: response.status });
      }
    } catch (error) {
      onInfo({ state: "error", name: "", online: false });
    }
    setTimeout(tick, refreshMs);
  }
  tick();
  return () => { stopped = true; };
}

export function startFromPage() {
  const view = document.querySelector("[data-frames-url]");
  if (!view) return;
  const img = view.querySelector("img");
  const title = view.querySelector("[data-camera-name]");
  const state = view.querySelector("[data-frame-state]");
  const label = (state) => view.dataset[`label${state[0].toUpperCase()}${state.slice(1)}`] || "";
  startFrames(img, view.dataset.framesUrl, Number(view.dataset.refreshMs) || 500, (info) => {
    if (title && info.name) title.textContent = info.name;
    if (title && info.state === "empty") title.textContent = label("empty");
    if (state) {
      state.textContent = label(info.state);
      state.dataset.state = info.state;
    }
    view.dataset.state = info.state;
  });
}

startFromPage();
