#!/usr/bin/env python
"""Console load benchmark: map layers, map drawing and alert latency with ~10,000 map objects.

Works on a database of its own next to the configured one (``<name>_console_bench`` on the
PostgreSQL server of DATABASE_URL; a file under var/ without it): dropped, created, migrated and
loaded with ``load_demo --scale N`` (or kept with --reuse-db). Serves it with Daphne as
``make run`` does (static files collected, WhiteNoise; the channel layer on REDIS_URL under a
prefix of its own), then prints:

1. the GeoJSON layers (/api/layers/*.geojson) as the demo operator: latency p50/p95, feature
   count and size;
2. the console loaded in headless Chromium: time until every initial layer is drawn, and the
   number of features drawn;
3. alert latency: partner alerts posted one at a time, time from just before each POST until the
   console shows it in its inbox and on its map, and how many never showed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/controlroom REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/console_load.py --scale 10000
"""

import argparse
import asyncio
import gzip
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from support import ROOT, bench_database_url, daphne, percentile, prepare_database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OPERATOR, PASSWORD = "operateur", "demo-dijon"  # the demo's operator (controlroom/demo.py)
LAYERS = ["incidents", "units", "alerts"]
PARTNER_CODE = "bench-console"


def manage(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def partner_token() -> str:
    """A partner system allowed to post alerts; its token is issued afresh on every run."""
    from controlroom.models import Agency
    from incidents.models import PartnerSystem

    partner = PartnerSystem.objects.filter(code=PARTNER_CODE).first() or PartnerSystem(
        code=PARTNER_CODE, name="Banc d'essai de la console",
        agency=Agency.objects.filter(code="divia").first() or Agency.objects.first(),
    )
    partner.scopes, partner.active = [PartnerSystem.Scope.ALERTS], True
    token = partner.issue_token()
    partner.save()
    return token


# --- the server ----------------------------------------------------------------------------------
# --- figures -------------------------------------------------------------------------------------
def size(count: int) -> str:
    return f"{count / 1024:.0f} KiB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.2f} MiB"


# --- 1. the GeoJSON layers -----------------------------------------------------------------------
def login_opener(base: str) -> urllib.request.OpenerDirector:
    """A cookie-keeping HTTP client logged in through the login page, CSRF token included."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/connexion/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": OPERATOR,
                                   "password": PASSWORD, "next": "/"}).encode()
    opener.open(urllib.request.Request(f"{base}/connexion/", data=form,
                                       headers={"Referer": f"{base}/connexion/"}))
    if not any(cookie.name == "sessionid" for cookie in jar):
        raise SystemExit(f"Could not log in as {OPERATOR} (is the demo loaded?).")
    return opener


def bench_layers(base: str, requests: int) -> None:
    opener = login_opener(base)
    print(f"1. GeoJSON layers as {OPERATOR}, {requests} requests each (after one warm-up):")
    for name in LAYERS:
        url = f"{base}/api/layers/{name}.geojson"
        body = opener.open(url).read()
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            body = opener.open(url).read()
            timings.append((time.perf_counter() - started) * 1000)
        features = len(json.loads(body)["features"])
        print(f"   {name:<9} {features:>6} features  {size(len(body)):>9} "
              f"(gzip {size(len(gzip.compress(body))):>8})  "
              f"ms: p50 {percentile(timings, 50):6.1f}  p95 {percentile(timings, 95):6.1f}  "
              f"max {max(timings):6.1f}")


# --- 2. and 3. the console in Chromium -----------------------------------------------------------
MAP_READY = 'document.body && document.body.dataset.mapReady === "1"'

# Records when each alert first shows in the inbox and on the map (Date.now(), the clock the
# bench reads with time.time()). The inbox and the map are updated in the same task, so the
# map is checked as soon as an inbox entry appears, and polled for ids the bench names.
WATCH_ALERTS = """() => {
  const seen = { inbox: {}, map: {} };
  const watched = new Set();
  const onMap = (id, now) => {
    if (id in seen.map) return;
    if (window.controlRoomConsole.hasFeature(`alert-${id}`)) seen.map[id] = now;
    else watched.add(id);
  };
  const inbox = document.getElementById("alert-inbox");
  new MutationObserver((records) => {
    const now = Date.now();
    for (const record of records) {
      const nodes = record.type === "attributes" ? [record.target] : record.addedNodes;
      for (const node of nodes) {
        if (node.nodeType !== 1) continue;
        const items = node.matches("[data-alert-id]")
          ? [node] : node.querySelectorAll("[data-alert-id]");
        for (const item of items) {
          const id = item.dataset.alertId;
          if (!(id in seen.inbox)) { seen.inbox[id] = now; onMap(id, now); }
        }
      }
    }
  }).observe(inbox, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-alert-id"],
  });
  setInterval(() => {
    const now = Date.now();
    for (const id of watched) {
      if (!window.controlRoomConsole.hasFeature(`alert-${id}`)) continue;
      seen.map[id] = now;
      watched.delete(id);
    }
  }, 5);
  window.benchAlerts = { seen, watch: (id) => onMap(String(id), Date.now()) };
}"""


PAGE_ERRORS: list[str] = []


# When each alert's journal event reaches the page, to tell the push from the drawing.
WATCH_SOCKET = """(() => {
  window.benchPushed = {};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (message) => {
        const now = Date.now();
        const data = JSON.parse(message.data);
        if (data.type === "alert.received") window.benchPushed[String(data.payload.alert)] ??= now;
      });
    }
  };
})();"""


async def open_console(context, base: str):
    """A console page with its initial layers drawn, or None if there is no console yet."""
    page = await context.new_page()
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    response = await page.goto(f"{base}/console/", wait_until="commit")
    if response is None or response.status == 404:
        await page.close()
        return None
    await page.wait_for_function(MAP_READY, timeout=180_000)
    return page


async def logged_in_state(browser, base: str) -> dict:
    context = await browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    page = await context.new_page()
    await page.goto(f"{base}/connexion/?next=/")
    await page.get_by_label("Identifiant").fill(OPERATOR)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(f"{base}/")
    state = await context.storage_state()
    await context.close()
    return state


async def bench_map_load(browser, state: dict, base: str, loads: int) -> bool:
    timings, counts = [], []
    for _ in range(loads):
        # A fresh context each time: logged in, but nothing cached, as a console opening a shift.
        context = await browser.new_context(storage_state=state, locale="fr-FR",
                                            timezone_id="Europe/Paris")
        started = time.perf_counter()
        page = await open_console(context, base)
        if page is None:
            await context.close()
            print("2. Map load: skipped, /console/ answers 404.")
            return False
        timings.append(time.perf_counter() - started)
        counts.append(await page.evaluate("window.controlRoomConsole.featureCount()"))
        await context.close()
    print(f"2. Map load in Chromium ({loads} loads, cold cache, until every layer is drawn): "
          f"p50 {percentile(timings, 50):.2f} s  min {min(timings):.2f} s  "
          f"max {max(timings):.2f} s; features drawn: {counts[-1]}")
    return True


def post_alert(base: str, token: str, number: int, run: str) -> int:
    from demo.incidents import PLACES

    lat, lon = list(PLACES.values())[number % len(PLACES)]
    body = json.dumps({
        "category": "attroupement", "severity": 3, "lat": lat, "lon": lon,
        "title": f"Essai de charge n° {number + 1}", "source_ref": f"{run}-{number}",
    }).encode()
    request = urllib.request.Request(
        f"{base}/api/alerts/", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())["id"]


async def bench_alerts(browser, state: dict, base: str, token: str, count: int,
                       spacing: float, timeout: float) -> int:
    context = await browser.new_context(storage_state=state, locale="fr-FR",
                                        timezone_id="Europe/Paris")
    await context.add_init_script(WATCH_SOCKET)
    page = await open_console(context, base)
    if page is None:
        await context.close()
        print("3. Alert latency: skipped, /console/ answers 404.")
        return 0
    await page.wait_for_selector('#live-state[data-state="connected"]', state="attached")
    await page.evaluate(WATCH_ALERTS)
    run, posted, answered = f"bench-{int(time.time())}", [], []
    started = time.perf_counter()
    for number in range(count):
        delay = started + number * spacing - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.time() * 1000
        alert_id = await asyncio.to_thread(post_alert, base, token, number, run)
        answered.append(time.time() * 1000 - sent)
        await page.evaluate("(id) => window.benchAlerts.watch(id)", alert_id)
        posted.append((str(alert_id), sent))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = await page.evaluate("window.benchAlerts.seen")
        if all(i in seen["inbox"] and i in seen["map"] for i, _ in posted):
            break
        await asyncio.sleep(0.2)
    pushed = await page.evaluate("window.benchPushed")
    await context.close()

    shown = [max(seen["inbox"][i], seen["map"][i]) - sent for i, sent in posted
             if i in seen["inbox"] and i in seen["map"]]
    inbox = [seen["inbox"][i] - sent for i, sent in posted if i in seen["inbox"]]
    socket = [pushed[i] - sent for i, sent in posted if i in pushed]
    missed = len(posted) - len(shown)
    print(f"3. Alert latency, {count} partner alerts posted {spacing * 1000:.0f} ms apart, "
          f"POST → shown in the console's inbox and on its map:")
    print(f"   ms: p50 {percentile(shown, 50):.0f}  p95 {percentile(shown, 95):.0f}  "
          f"max {max(shown) if shown else float('nan'):.0f}  "
          f"mean {statistics.fmean(shown) if shown else float('nan'):.0f}")
    for label, values in [("POST answered", answered), ("event on the page's WebSocket", socket),
                          ("in the inbox", inbox)]:
        print(f"   {label + ':':<31} p50 {percentile(values, 50):4.0f}  "
              f"p95 {percentile(values, 95):4.0f}")
    print(f"   missed: {missed} of {count}")
    return missed


async def bench_browser(args, base: str, token: str) -> int:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            state = await logged_in_state(browser, base)
            if not await bench_map_load(browser, state, base, args.loads):
                print("3. Alert latency: skipped, /console/ answers 404.")
                return 0
            missed = await bench_alerts(browser, state, base, token, args.alerts,
                                        args.spacing, args.drain)
            return 1 if missed else 0
        finally:
            if PAGE_ERRORS:
                print(f"   script errors in the console: {len(PAGE_ERRORS)}, first: "
                      f"{PAGE_ERRORS[0][:200]}")
            await browser.close()


def main(args) -> int:
    url = bench_database_url(os.environ.get("DATABASE_URL", ""), args.database, "console_bench")
    os.environ["DATABASE_URL"] = url  # for the subprocesses and for Django in this one
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    layer = "Redis" if os.environ.get("REDIS_URL") else "in-memory"
    fresh = prepare_database(url, reuse=args.reuse_db)
    manage("migrate", "--noinput", "-v", "0")
    seconds = manage("load_demo", "--scale", str(args.scale))
    manage("collectstatic", "--noinput", "-v", "0")
    print(f"Database {Path(urllib.parse.urlsplit(url).path).name} on {engine} "
          f"({'created' if fresh else 'reused'}), channel layer {layer}; "
          f"load_demo --scale {args.scale}: {seconds:.1f} s")

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlroom.settings")
    import django

    django.setup()
    token = partner_token()

    # A channel prefix of its own: the bench never pushes to consoles of a running control room.
    with daphne(args.server_log, {"CHANNELS_PREFIX": f"bench-console-{os.getpid()}"}) as (host, _):
        base = f"http://{host}"
        bench_layers(base, args.requests)
        if args.skip_browser:
            print("2. and 3. skipped (--skip-browser).")
            return 0
        if not CHROMIUM.exists():
            print(f"2. and 3. skipped: no Chromium at {CHROMIUM}.")
            return 0
        return asyncio.run(bench_browser(args, base, token))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10_000, help="map objects to load")
    parser.add_argument("--reuse-db", action="store_true",
                        help="keep the bench database if it exists (topped up to --scale)")
    parser.add_argument("--database", help="name of the bench database (default: "
                        "<DATABASE_URL's name>_console_bench)")
    parser.add_argument("--requests", type=int, default=20, help="requests per layer")
    parser.add_argument("--loads", type=int, default=5, help="console loads in Chromium")
    parser.add_argument("--alerts", type=int, default=100, help="alerts posted")
    parser.add_argument("--spacing", type=float, default=0.2, help="seconds between alerts")
    parser.add_argument("--drain", type=float, default=15.0,
                        help="seconds to wait for the last alerts to show")
    parser.add_argument("--skip-browser", action="store_true", help="measure the layers only")
    parser.add_argument("--server-log", default=os.devnull, help="file for the server's output")
    sys.exit(main(parser.parse_args()))
