"""The demo's observatory: a synthetic history of Dijon, the demo's own facts, a forecast."""

from django.conf import settings

from demo.city import DIJON_OUTLINE
from observatory import services
from observatory.models import Fact, ForecastRun

SEED = 2026


def load(context: dict) -> None:
    """A synthetic history of ``context["observatory_days"]`` days (default
    ``OBSERVATORY_DEMO_DAYS``, a year); the tests load a few days, which is quicker, and too
    short for a forecast."""
    days = context.get("observatory_days") or settings.OBSERVATORY_DEMO_DAYS
    if not Fact.objects.filter(source=Fact.Source.SYNTHETIC).exists():
        loaded = services.synthetic_history_load(
            outline=[(lat, lon) for lon, lat in DIJON_OUTLINE], seed=SEED, days=days)
        context.setdefault("notes", []).append(
            f"observatory: {loaded['facts']} facts of a synthetic history "
            f"({days} days, {loaded['cells']} H3 cells)")


def finish(context: dict) -> None:
    services.facts_refresh()
    if ForecastRun.objects.exists():
        return  # refreshed daily by Celery beat; loading the demo again changes nothing
    run = services.forecast_refresh()
    if run is not None:
        e = run.evaluation
        context.setdefault("notes", []).append(
            f"observatory: forecast on {e['weeks']} held-out weeks, PAI at 5 % of the area "
            f"{e['model_pai']:.2f} (naive baseline {e['baseline_pai']:.2f})")
