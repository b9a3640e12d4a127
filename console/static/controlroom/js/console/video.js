// Cameras in the console: the camera popup (live view, routing to a wall screen), the
// supervisors' list of sensitive cameras waiting to be shown, and evidence snapshots in the
// inbox with the unblurred view (a reason asked, the view journaled by the server).

import { api, askReason, csrfToken, escapeHtml, format, notify } from "./api.js";

export class Video {
  constructor({ approvals, labels, config, onError, onNewApproval }) {
    this.approvals = approvals;
    this.onNewApproval = onNewApproval || (() => {});
    this.labels = labels;
    this.config = config;
    this.onError = onError || (() => {});
    this.screens = [];
    this.pending = new Map(); // routing id → request
    if (approvals) approvals.addEventListener("click", (event) => this.decide(event));
    document.addEventListener("click", (event) => this.click(event));
  }

  async loadScreens() {
    if (!this.config.mayRouteScreens) return;
    const { data } = await api("/api/screens/?limit=100");
    this.screens = data.results;
  }

  async loadRoutings() {
    if (!this.approvals || !this.config.mayApproveRouting) return;
    const { data } = await api("/api/screen-routings/?status=pending&limit=100");
    for (const routing of data.results) this.pending.set(routing.id, routing);
    this.renderRoutings();
  }

  popup(p) {
    const l = this.labels;
    const analytics = (p.analytics || []).map((a) => l.videoRules[a] || a).join(", ");
    let html = `<div class="camera-popup" data-camera-id="${Number(p.id)}">` +
      `<strong>${escapeHtml(p.name)}</strong><br>${escapeHtml(p.online ? l.online : l.offline)}` +
      `${p.sensitive ? ` · ${escapeHtml(l.sensitive)}` : ""}${analytics ? `<br>${escapeHtml(analytics)}` : ""}`;
    if (this.config.mayViewLive) {
      html += `<br><a href="/video/cameras/${Number(p.id)}/direct/" target="_blank" rel="noopener" data-live-link>${escapeHtml(l.liveView)}</a>`;
    }
    if (this.config.mayRouteScreens && this.screens.length) {
      const options = this.screens.map((s) => `<option value="${Number(s.id)}">${escapeHtml(s.name)}</option>`).join("");
      html += `<div class="route"><select data-route-screen aria-label="${escapeHtml(l.showOnScreen)}">${options}</select> ` +
        `<button type="button" data-route-camera="${Number(p.id)}" data-sensitive="${p.sensitive ? 1 : 0}">${escapeHtml(l.showOnScreen)}</button></div>`;
    }
    return `${html}</div>`;
  }

  async click(event) {
    const route = event.target.closest("button[data-route-camera]");
    if (route) return this.route(route);
    const unblur = event.target.closest("button[data-unblur]");
    if (unblur) return this.unblur(Number(unblur.dataset.unblur));
    return null;
  }

  async route(button) {
    const l = this.labels;
    const screen = Number(button.closest(".camera-popup").querySelector("[data-route-screen]").value);
    let reason = "";
    if (button.dataset.sensitive === "1" && !this.config.mayApproveRouting) {
      reason = await askReason(this.labels, l.routingReason);
      if (!reason) return;
    }
    try {
      const { response } = await api(`/api/screens/${screen}/route/`, {
        method: "POST", body: { camera: Number(button.dataset.routeCamera), reason },
      });
      button.textContent = response.status === 202 ? l.routingRequested : l.routed;
    } catch (error) {
      this.onError(error.message);
    }
  }

  /** A journal event about a screen: requests come and go live. */
  apply(event) {
    const p = event.payload || {};
    if (event.type === "screen.routing_requested") {
      if (!this.pending.has(p.routing) && this.config.mayApproveRouting
          && event.actor !== this.config.user) this.onNewApproval();
      this.pending.set(p.routing, { id: p.routing, screen_name: p.name, camera_name: p.requested_name,
        reason: p.reason, requested_by: event.actor });
    } else if (p.routing) {
      this.pending.delete(p.routing);
    }
    if (event.type === "screen.routing_rejected" && p.requested_by === this.config.user) {
      // This operator's request was refused: say by whom and why, until they close it.
      const l = this.labels;
      notify(format(l.routingRefusedNotice, {
        camera: p.requested_name || "", screen: p.name || "", who: event.actor || "",
        reason: p.note || "",
      }), { kind: "refused", closeLabel: l.close });
    }
    this.renderRoutings();
  }

  renderRoutings() {
    if (!this.approvals) return;
    const l = this.labels;
    const rows = [...this.pending.values()].map((r) => {
      const li = document.createElement("li");
      li.dataset.routing = r.id;
      li.innerHTML = `<strong>${escapeHtml(r.camera_name)}</strong> → ${escapeHtml(r.screen_name)}` +
        `<div class="meta">${escapeHtml(r.requested_by)} · ${escapeHtml(r.reason)}</div>` +
        `<div class="actions"><button type="button" data-approve-routing="${Number(r.id)}">${escapeHtml(l.approve)}</button>` +
        `<button type="button" data-reject-routing="${Number(r.id)}">${escapeHtml(l.reject)}</button></div>`;
      return li;
    });
    this.approvals.replaceChildren(...rows);
    this.approvals.closest("section").hidden = rows.length === 0 || !this.config.mayApproveRouting;
  }

  async decide(event) {
    const approve = event.target.closest("button[data-approve-routing]");
    const reject = event.target.closest("button[data-reject-routing]");
    try {
      if (approve) {
        await api(`/api/screen-routings/${Number(approve.dataset.approveRouting)}/approve/`, { method: "POST" });
      } else if (reject) {
        const note = await askReason(this.labels, this.labels.rejectReason);
        if (!note) return;
        await api(`/api/screen-routings/${Number(reject.dataset.rejectRouting)}/reject/`, {
          method: "POST", body: { note },
        });
      }
    } catch (error) {
      this.onError(error.message);
    }
  }

  /** The evidence of a camera alert, for the inbox: the blurred snapshot, and the unblurred
   * view's button for who may. */
  evidence(alert) {
    const evidence = alert.evidence || {};
    const url = alert.snapshot_url || evidence.snapshot_url;
    if (alert.source !== "camera" || !url) return "";
    const l = this.labels;
    const snapshot = Number(url.match(/(\d+)\.jpg$/)?.[1]);
    const button = this.config.mayUnblur && snapshot
      ? `<button type="button" data-unblur="${snapshot}">${escapeHtml(l.unblur)}</button>` : "";
    return `<div class="evidence"><img src="${escapeHtml(url)}" alt="${escapeHtml(l.evidence)}" loading="lazy">${button}</div>`;
  }

  async unblur(snapshot) {
    const reason = await askReason(this.labels, this.labels.unblurReason);
    if (!reason) return;
    try {
      const response = await fetch(`/api/snapshots/${snapshot}/unblurred/`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ reason }),
      });
      if (!response.ok) {
        const data = await response.json().catch(() => ({}));
        throw new Error(data.detail || Object.values(data.fields || {}).flat().join(" ") || response.statusText);
      }
      this.show(URL.createObjectURL(await response.blob()));
    } catch (error) {
      this.onError(error.message);
    }
  }

  show(url) {
    const dialog = document.createElement("dialog");
    dialog.className = "unblurred";
    dialog.innerHTML = `<p>${escapeHtml(this.labels.unblurredNotice)}</p><img alt="${escapeHtml(this.labels.evidence)}"><form method="dialog"><button>${escapeHtml(this.labels.close)}</button></form>`;
    dialog.querySelector("img").src = url;
    dialog.addEventListener("close", () => { URL.revokeObjectURL(url); dialog.remove(); });
    document.body.append(dialog);
    dialog.showModal();
  }
}
