#!/usr/bin/env python
"""Observatory benchmark: every dashboard over a fact table of about 1,000,000 facts.

Works on a database of its own next to the configured one (``<name>_observatory_bench`` on the
PostgreSQL server of DATABASE_URL; a file under var/ without it): dropped, created, migrated,
then filled with a synthetic history of Dijon (``--days`` days at ``--daily`` background events
a day, near repeats on top: about a million facts by default). Then, for a one-year and a
three-year period, each dashboard figure is computed ``--repeat`` times and its latency printed
(median and worst), with the whole page's figures together (the JSON the page fetches; the
target: under 1 s). Finally the forecast is fitted, evaluated on held-out weeks and stored, with
its time and its PAI against the baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/controlroom \
        .venv/bin/python bench/observatory.py
"""

import argparse
import resource
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from support import ROOT, django_on_bench_database, percentile

sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--daily", type=float, default=620.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", help="name of the bench database")
    parser.add_argument("--reuse-db", action="store_true")
    args = parser.parse_args()

    fresh = django_on_bench_database(args.database, "observatory_bench", reuse=args.reuse_db)
    from django.core.management import call_command
    from django.db import connection

    from demo import city as city_demo
    from observatory import selectors, services, synthetic
    from observatory.models import Fact

    # Periods start and end at local midnight, as the dashboards' date filters give them.
    end = datetime(2026, 12, 1, tzinfo=ZoneInfo("Europe/Paris"))
    if fresh:
        call_command("migrate", verbosity=0)
        city_demo.load({})
        started = time.perf_counter()
        loaded = services.synthetic_history_load(
            outline=[(lat, lon) for lon, lat in city_demo.DIJON_OUTLINE], seed=2026,
            days=args.days, end=end, settings_=synthetic.Settings(daily_events=args.daily))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE observatory_fact")
        print(f"history: {loaded['facts']:,} facts over {loaded['cells']} H3 cells in "
              f"{time.perf_counter() - started:.0f} s")
    total = Fact.objects.count()
    print(f"fact table: {total:,} facts")

    figures = {
        "by category": selectors.by_category, "by sector": selectors.by_sector,
        "hour of week": selectors.hour_of_week, "trend vs last year": selectors.trend,
        "heat map (H3)": selectors.heatmap, "response times": selectors.response_times,
    }
    for label, days in (("one year", 365), ("three years", min(args.days, 3 * 365))):
        f = selectors.Filters(start=end - timedelta(days=days), end=end)
        print(f"\n{label} ({f.start:%Y-%m-%d} → {f.end:%Y-%m-%d}), {args.repeat} runs each:")
        page = []
        for name, build in figures.items():
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                build(f)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"  {name:<20} median {percentile(times, 50):7.1f} ms   worst "
                  f"{max(times):7.1f} ms")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for build in figures.values():
                build(f)
            selectors.forecast_map()
            page.append((time.perf_counter() - t0) * 1000)
        print(f"  {'whole page':<20} median {percentile(page, 50):7.1f} ms   worst "
              f"{max(page):7.1f} ms   (target < 1000 ms: "
              f"{'OK' if max(page) < 1000 else 'ABOVE'})")
        narrowed = selectors.Filters(start=f.start, end=f.end, categories=["rixe"])
        t0 = time.perf_counter()
        selectors.heatmap(narrowed)
        print(f"  heat map, one category: {(time.perf_counter() - t0) * 1000:.1f} ms")

    t0 = time.perf_counter()
    run = services.forecast_refresh(now=end)
    elapsed = time.perf_counter() - t0
    if run is not None:
        e = run.evaluation
        print(f"\nforecast: fitted, evaluated on {e['weeks']} held-out weeks and stored in "
              f"{elapsed:.1f} s; PAI at 5 % of the area {e['model_pai']:.2f} (naive baseline "
              f"{e['baseline_pai']:.2f}), hit rate {e['model_hit']:.3f} (baseline "
              f"{e['baseline_hit']:.3f})")
    print(f"peak memory of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
