from celery import shared_task


@shared_task(name="observatory.refresh_facts")
def refresh_facts() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from observatory import services

    return services.facts_refresh(since=timezone.now() - timedelta(days=2))


@shared_task(name="observatory.forecast")
def forecast() -> int | None:
    from observatory import services

    run = services.forecast_refresh()
    return run.pk if run else None


@shared_task(name="observatory.anomalies")
def anomalies() -> int:
    from datetime import timedelta

    from django.utils import timezone

    from observatory import services

    services.facts_refresh(since=timezone.now() - timedelta(hours=3))
    return len(services.anomalies_check())


@shared_task(name="observatory.run_import")
def run_import(run_id: int) -> None:
    from observatory.services import imports as import_services

    import_services.import_execute(run_id=run_id)
