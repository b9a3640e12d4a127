"""Staff pages: the reports behind a citizen alert, their photos, and their public status."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from citizens import selectors, services
from citizens.models import Report, ReportPhoto, Service
from controlroom.errors import StateConflict


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Nouvel état"), choices=Report.Status.choices)
    note = forms.CharField(
        label=gettext_lazy("Message au public"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Visible du citoyen sur sa page de suivi et des applications "
                               "Open311. Obligatoire pour un rejet."),
    )
    whole_group = forms.BooleanField(
        label=gettext_lazy("Appliquer aussi aux signalements regroupés sur la même alerte"),
        required=False, initial=True,
    )


def _require_view(user):
    if not user.has_perm("citizens.view_report"):
        raise PermissionDenied(_("Les signalements sont réservés au personnel du poste."))


@login_required
@never_cache
def report_list(request):
    _require_view(request.user)
    status = request.GET.get("etat", "open")
    service = request.GET.get("service", "")
    alert = request.GET.get("alerte", "")
    reports = selectors.reports_for_staff(
        user=request.user, status=status, service=service,
        alert=int(alert) if alert.isdigit() else None,
    )
    page = Paginator(reports.annotate(photo_count=Count("photos")), 50).get_page(
        request.GET.get("page"))
    return render(request, "citizens/staff/list.html", {
        "page": page, "status": status, "service": service, "alert": alert,
        "statuses": [("open", _("non clos")), *Report.Status.choices, ("all", _("tous"))],
        "services": Service.objects.order_by("name"),
    })


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def report_detail(request, pk):
    _require_view(request.user)
    report = selectors.report_for_staff(user=request.user, pk=pk)
    if report is None:
        raise Http404
    may_change = request.user.has_perm("citizens.change_report")
    form = StatusForm(initial={"status": report.status})
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(_("Vous n'avez pas le droit de traiter les signalements."))
        form = StatusForm(request.POST)
        if form.is_valid():
            try:
                changed = services.report_set_status(
                    report=report, by=request.user, status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"], whole_group=form.cleaned_data["whole_group"],
                )
                messages.success(request, _("État mis à jour (%(n)s signalement(s)).")
                                 % {"n": len(changed)})
                return redirect("citizens:staff-report", pk=report.pk)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            except StateConflict as error:
                form.add_error(None, str(error))
    return render(request, "citizens/staff/detail.html", {
        "report": report, "form": form, "may_change": may_change,
        "group": selectors.report_group(report),
        "updates": report.updates.select_related("by"),
    }, status=400 if form.errors else 200)


@login_required
def report_photo(request, pk, photo):
    _require_view(request.user)
    stored = get_object_or_404(ReportPhoto, pk=photo, report_id=pk)
    response = FileResponse(stored.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
