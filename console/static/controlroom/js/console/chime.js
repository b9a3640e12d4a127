// A short two-note chime made with WebAudio (no sound file): a new request is waiting for a
// supervisor's approval. Browsers may keep audio suspended until the page gets a gesture;
// the pane's highlight and the count in the top bar remain.

let context = null;
export const chimes = { played: 0 };

function audio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!context) context = new Context();
  return context;
}

// A click or a key press lets a suspended context play the next chime.
for (const type of ["pointerdown", "keydown"]) {
  document.addEventListener(type, () => { if (context && context.state === "suspended") context.resume(); },
    { passive: true });
}

export function chime() {
  chimes.played += 1;
  try {
    const ctx = audio();
    if (!ctx) return;
    const start = ctx.currentTime;
    [[660, 0], [990, 0.16]].forEach(([frequency, offset]) => {
      const tone = ctx.createOscillator();
      const gain = ctx.createGain();
      tone.type = "sine";
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.12, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.15);
      tone.connect(gain).connect(ctx.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.16);
    });
  } catch (_error) {
    // No audio device: the visual cue remains.
  }
}
