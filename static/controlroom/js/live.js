// Live journal stream for the consoles.
//
// Keeps the last sequence number it handled, resumes after a reconnect (see retryDelay) from
// that number, drops duplicates, and fills gaps from the events API when
// heartbeats show the journal stayed ahead of what arrived. Every visible event reaches `onEvent`
// once, in sequence order. Several messages may come in one frame ({kind: "batch", messages}).
// A server that finds this console too far behind says "resync" and closes: the console comes
// back with ?after= its last event and catches up from the journal.

// When to try again after the socket closed (ms): the first retry anywhere in 0.5–2.5 s (a
// restarted server sees its consoles come back spread out), then every 1–2 s for a while (a
// refused attempt costs the server nothing, and consoles are back within seconds of a restart),
// then backing off exponentially up to 15 s for a long outage.
const FIRST_RETRY_MS = [500, 2500];
const QUICK_RETRY_MS = [1000, 2000];
const QUICK_RETRIES = 10;
const MAX_DELAY_MS = 15000;

export function retryDelay(failures, random = Math.random) {
  const within = ([low, high]) => low + random() * (high - low);
  if (failures === 0) return within(FIRST_RETRY_MS);
  if (failures <= QUICK_RETRIES) return within(QUICK_RETRY_MS);
  const delay = Math.min(QUICK_RETRY_MS[1] * 2 ** (failures - QUICK_RETRIES), MAX_DELAY_MS);
  return delay * (0.75 + random() * 0.5);
}
const CLOSE_UNAUTHORISED = 4401;

export class LiveStream {
  /**
   * @param {object} options
   * @param {(event: object) => void} options.onEvent  called once per journal event, in order
   * @param {(state: string, detail?: object) => void} [options.onState]
   *        "connecting" | "connected" | "reconnecting" | "filling" | "closed"
   * @param {number|null} [options.after]  last seq already known (null: start from now)
   * @param {string} [options.socketPath]
   * @param {string} [options.eventsUrl]
   * @param {number} [options.heartbeatTimeoutMs]  reconnect when nothing arrives for this long
   */
  constructor({
    onEvent,
    onState = () => {},
    after = null,
    socketPath = "/ws/live/",
    eventsUrl = "/api/events/",
    heartbeatTimeoutMs = 7000,
  }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastSeq = after;
    this.socketPath = socketPath;
    this.eventsUrl = eventsUrl;
    this.heartbeatTimeoutMs = heartbeatTimeoutMs;
    this.failures = 0;
    this.socket = null;
    this.stopped = false;
    this.filling = null;
    this.watchdog = null;
    this.announced = null;
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.watchdog);
    if (this.socket) this.socket.close();
    this.onState("closed");
  }

  /** Force a reconnect, as after a network change. */
  reconnect() {
    if (this.socket) this.socket.close();
  }

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const query = this.lastSeq === null ? "" : `?after=${this.lastSeq}`;
    this.onState(this.lastSeq === null ? "connecting" : "reconnecting");
    const socket = new WebSocket(`${scheme}://${window.location.host}${this.socketPath}${query}`);
    this.socket = socket;
    socket.onmessage = (message) => this.handleFrame(JSON.parse(message.data));
    socket.onclose = (close) => {
      clearTimeout(this.watchdog);
      if (this.socket !== socket || this.stopped) return;
      if (close.code === CLOSE_UNAUTHORISED) {
        this.onState("closed", { reason: "unauthorised" });
        return;
      }
      const wait = retryDelay(this.failures);
      this.failures += 1;
      this.onState("reconnecting", { inMs: Math.round(wait) });
      setTimeout(() => this.connect(), wait);
    };
    this.armWatchdog();
  }

  armWatchdog() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.reconnect(), this.heartbeatTimeoutMs);
  }

  handleFrame(message) {
    this.armWatchdog();
    if (message.kind === "batch") message.messages.forEach((item) => this.handle(item));
    else this.handle(message);
  }

  handle(message) {
    switch (message.kind) {
      case "event":
        this.accept(message);
        break;
      case "ready":
        this.failures = 0;
        this.announced = null;
        this.advance(message.seq);
        this.onState("connected", { seq: this.lastSeq });
        break;
      case "heartbeat":
        // Everything visible up to `delivered` has already come down this socket, in order.
        this.advance(message.delivered);
        // An event the previous heartbeat announced has still not arrived: it was lost on the
        // way (a full channel, a writer in another process). Read it from the journal. (Events
        // the latest heartbeat announces may simply be in flight.)
        if (this.announced !== null && this.announced > this.lastSeq) this.fillGap();
        this.announced = message.seq;
        break;
      default:
        break;
    }
  }

  accept(event) {
    if (this.lastSeq !== null && event.seq <= this.lastSeq) return; // duplicate
    this.lastSeq = event.seq;
    this.onEvent(event);
  }

  advance(seq) {
    if (typeof seq === "number" && (this.lastSeq === null || seq > this.lastSeq)) this.lastSeq = seq;
  }

  /** Read the journal after lastSeq until the head seen at the time of reading. */
  fillGap() {
    if (this.filling) return this.filling;
    this.onState("filling", { after: this.lastSeq });
    this.filling = (async () => {
      try {
        let url = `${this.eventsUrl}?after=${this.lastSeq ?? 0}`;
        let latest = null;
        while (url) {
          const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
          if (!response.ok) throw new Error(`events API answered ${response.status}`);
          const page = await response.json();
          page.results.forEach((event) => this.accept(event));
          latest = page.latest_seq;
          url = page.next;
        }
        this.advance(latest);
        this.onState("connected", { seq: this.lastSeq });
      } catch (error) {
        this.onState("reconnecting", { error: String(error) });
      } finally {
        this.filling = null;
      }
    })();
    return this.filling;
  }
}
