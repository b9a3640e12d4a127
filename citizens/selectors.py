"""Reads of the citizens app: the public catalogue, reports as the public and as staff see them."""

from django.db.models import Prefetch, QuerySet

from citizens.models import Report, Service, ServiceAttribute, normalise_tracking_code


def services_public() -> QuerySet[Service]:
    """Active services with their questions, in the order the city chose."""
    return Service.objects.filter(active=True).prefetch_related(
        Prefetch("attributes", queryset=ServiceAttribute.objects.order_by("order", "code"))
    )


def reports_public() -> QuerySet[Report]:
    return Report.objects.select_related("service").order_by("-requested_at", "-pk")


def report_by_code(code: str) -> Report | None:
    code = normalise_tracking_code(code)
    if not code:
        return None
    return Report.objects.select_related("service").filter(code=code).first()


def reports_for_staff(*, user, status: str = "", service: str = "", alert: int | None = None
                      ) -> QuerySet[Report]:
    if not user.has_perm("citizens.view_report"):
        return Report.objects.none()
    reports = (
        Report.objects.select_related("service", "alert", "client")
        .order_by("-requested_at", "-pk")
    )
    if status == "open":
        reports = reports.exclude(status__in=Report.CLOSED_STATUSES)
    elif status in Report.Status.values:
        reports = reports.filter(status=status)
    if service:
        reports = reports.filter(service__code=service)
    if alert:
        reports = reports.filter(alert_id=alert)
    return reports


def report_for_staff(*, user, pk: int) -> Report | None:
    return reports_for_staff(user=user).prefetch_related("photos", "updates").filter(pk=pk).first()


def report_group(report: Report) -> QuerySet[Report]:
    """The other reports counted on the same alert."""
    if not report.alert_id:
        return Report.objects.none()
    return (Report.objects.filter(alert_id=report.alert_id).exclude(pk=report.pk)
            .select_related("service").order_by("requested_at"))
