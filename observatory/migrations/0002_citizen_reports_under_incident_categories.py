"""Citizens' reports counted under their service's incident category (``nuisance_sonore``), no
longer under a code of their own (``citoyen-nuisance-sonore``): the same problem is one category
whoever reported it. The daily counts of the days concerned are rebuilt."""

from django.db import migrations
from django.db.models import Count, Sum


def forwards(apps, schema_editor):
    Fact = apps.get_model("observatory", "Fact")
    DailyCount = apps.get_model("observatory", "DailyCount")
    Service = apps.get_model("citizens", "Service")
    days = set()
    for code, category in Service.objects.values_list("code", "category__code"):
        old = f"citoyen-{code}"[:60]
        facts = Fact.objects.filter(source="citizen_report", category=old)
        days.update(facts.values_list("local_day", flat=True).distinct())
        facts.update(category=category or "autre")
    days = sorted(days)
    for start in range(0, len(days), 200):
        chunk = days[start:start + 200]
        rows = (Fact.objects.filter(local_day__in=chunk).order_by()
                .values("local_day", "sector_id", "category", "source")
                .annotate(n=Count("id"), w=Sum("weight")))
        DailyCount.objects.filter(day__in=chunk).delete()
        DailyCount.objects.bulk_create([
            DailyCount(day=r["local_day"], sector_id=r["sector_id"], category=r["category"],
                       source=r["source"], count=r["n"], weight=r["w"] or 0.0)
            for r in rows], batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [
        ("observatory", "0001_initial"),
        ("citizens", "0001_initial"),
        ("incidents", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
