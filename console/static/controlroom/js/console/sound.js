// Sound alerts in the console: what was heard (type, confidence, level) and, for an impulse
// heard by several sensors, where it was located and how precisely. Never any audio.
import { escapeHtml, format } from "./api.js";

/** The inbox's evidence line of a sound alert ("" for other alerts). */
export function soundEvidence(alert, labels) {
  const evidence = alert.evidence || {};
  if (!evidence.sound) return "";
  const l = labels.sound;
  const parts = [l.kinds[evidence.sound] || evidence.label || evidence.sound];
  if (typeof evidence.confidence === "number") parts.push(`${l.confidence} ${Math.round(evidence.confidence * 100)} %`);
  if (typeof evidence.peak_db === "number") parts.push(`${evidence.peak_db} dB(A)`);
  let html = `<div class="sound-evidence" data-sound="${escapeHtml(evidence.sound)}">${escapeHtml(parts.join(" · "))}`;
  const located = evidence.located;
  if (located && Array.isArray(located.sensors)) {
    html += `<br><span data-located>${escapeHtml(format(l.located, { count: located.sensors.length, radius: Math.round(Number(located.radius_m)) }))}</span>`;
    if (Array.isArray(located.rejected) && located.rejected.length) {
      html += ` · ${escapeHtml(format(l.echoes, { count: located.rejected.length }))}`;
    }
  }
  return `${html}</div>`;
}
