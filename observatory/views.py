"""The observatory's pages: dashboards for supervisors and analysts, figures as JSON and CSV."""

import csv
from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from controlroom.errors import form_add_errors
from controlroom.models import Sector
from observatory import labels, selectors
from observatory.models import Fact, ImportRun, ImportSource


class FiltersForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("Du"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("Au (inclus)"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.MultipleChoiceField(label=gettext_lazy("Catégories"), required=False)
    sector = forms.ModelMultipleChoiceField(label=gettext_lazy("Secteurs"), required=False,
                                            queryset=Sector.objects.order_by("name"))
    source = forms.MultipleChoiceField(label=gettext_lazy("Sources"), required=False,
                                       choices=Fact.Source.choices)
    decimal = forms.ChoiceField(
        label=gettext_lazy("Décimales des CSV"), required=False,
        choices=[("point", gettext_lazy("point (1.5)")),
                 ("comma", gettext_lazy("virgule (1,5), pour un tableur français"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = Fact.objects.order_by().values_list("category", flat=True).distinct()
        names = labels.category_labels(codes)
        self.fields["category"].choices = sorted(names.items(), key=lambda pair: pair[1])

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("La fin de la période précède son début."))
        if start and end and (end - start).days > 3 * 366:
            raise forms.ValidationError(_("Une période de trois ans au plus."))
        return data

    def filters(self) -> selectors.Filters:
        data = self.cleaned_data
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=90)
        zone = timezone.get_current_timezone()
        return selectors.Filters(
            start=timezone.make_aware(datetime.combine(start, time.min), zone),
            end=timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone),
            categories=data.get("category") or [],
            sectors=[s.pk for s in data.get("sector") or []],
            sources=data.get("source") or [])


def _allowed(request):
    if not request.user.has_perm("observatory.view_observatory"):
        raise PermissionDenied(_("L'observatoire est réservé aux superviseurs et aux analystes."))


def _form(request) -> FiltersForm:
    """The filters of the query string (every one optional: the last 90 days by default)."""
    form = FiltersForm(request.GET)
    form.is_valid()
    return form


@never_cache
@login_required
def dashboard(request):
    _allowed(request)
    form = _form(request)
    latest = selectors.forecast_map()["run"]
    return render(request, "observatory/dashboard.html", {
        "form": form, "query": request.GET.urlencode(), "forecast": latest,
        "tiles_url": settings.LEAFLET_CONFIG["TILES"],
        "config": {"center": settings.LEAFLET_CONFIG["DEFAULT_CENTER"],
                   "zoom": settings.LEAFLET_CONFIG["DEFAULT_ZOOM"],
                   "columns": {key: str(label) for key, label in labels.COLUMNS.items()},
                   "labels": {"count": _("faits"), "lastYear": _("même semaine l'an passé"),
                              "legendCount": _("Faits par hexagone"),
                              "legendExpected": _("Faits attendus sur 7 jours, par hexagone"),
                              "none": _("aucun"), "hour": _("Heure"),
                              "category": _("Catégorie affichée"),
                              "allCategories": _("Toutes les catégories"),
                              "expected": _("attendus sur 7 jours"),
                              "noData": _("pas de données"),
                              "days": [_("lun."), _("mar."), _("mer."), _("jeu."), _("ven."),
                                       _("sam."), _("dim.")]}},
    })


@never_cache
@login_required
def figures(request):
    """Every dashboard figure for the filters, as JSON."""
    _allowed(request)
    form = _form(request)
    if not form.is_valid():
        return JsonResponse({"detail": _("Filtres invalides."), "fields": form.errors},
                            status=400)
    f = form.filters()
    if request.GET.get("only") == "heatmap":  # the map's own category selector
        return JsonResponse({"heatmap": selectors.heatmap(f)})
    return JsonResponse({
        "period": {"start": f.start.isoformat(), "end": f.end.isoformat()},
        "categories": selectors.by_category_labelled(f), "sectors": selectors.by_sector(f),
        "hour_of_week": selectors.hour_of_week(f), "trend": selectors.trend(f),
        "response_times": selectors.response_times_minutes(f), "heatmap": selectors.heatmap(f),
        "forecast": selectors.forecast_map(),
    })


@never_cache
@login_required
def export(request, table: str):
    """One dashboard table as CSV (the filters of the page)."""
    _allowed(request)
    if table not in selectors.TABLES:
        return JsonResponse({"detail": _("Tableau inconnu.")}, status=404)
    form = _form(request)
    if not form.is_valid():
        return JsonResponse({"detail": _("Filtres invalides."), "fields": form.errors},
                            status=400)
    build, columns = selectors.TABLES[table]
    comma = request.GET.get("decimal") == "comma"
    # For French spreadsheets: UTF-8 with a byte-order mark (Excel reads the accents), ";"
    # between columns, and on request a decimal comma.
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="observatoire-{table}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow([labels.column(key) for key in columns])
    for row in build(form.filters()):
        writer.writerow([_cell(row.get(key), comma) for key in columns])
    return response


def _cell(value, comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:g}" if abs(value) < 1e15 else str(value)
        return text.replace(".", ",") if comma else text
    return str(value)


# --- imports ------------------------------------------------------------------------------------
class SourceForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nom de la source"), max_length=120)
    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=ImportSource.Kind.choices)
    time = forms.CharField(label=gettext_lazy("Colonne date et heure"), required=False)
    lat = forms.CharField(label=gettext_lazy("Colonne latitude"), required=False)
    lon = forms.CharField(label=gettext_lazy("Colonne longitude"), required=False)
    category = forms.CharField(label=gettext_lazy("Colonne catégorie"), required=False)
    weight = forms.CharField(label=gettext_lazy("Colonne poids (facultatif)"), required=False)
    rain_mm = forms.CharField(label=gettext_lazy("Colonne pluie (mm)"), required=False)
    temperature_c = forms.CharField(label=gettext_lazy("Colonne température (°C)"),
                                    required=False)
    name_column = forms.CharField(label=gettext_lazy("Colonne nom de l'événement"),
                                  required=False)
    start = forms.CharField(label=gettext_lazy("Colonne début"), required=False)
    end = forms.CharField(label=gettext_lazy("Colonne fin (facultatif)"), required=False)
    attendance = forms.CharField(label=gettext_lazy("Colonne affluence (facultatif)"),
                                 required=False)
    categories = forms.CharField(
        label=gettext_lazy("Correspondance des catégories (une par ligne : libellé = code)"),
        required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def mapping(self) -> dict:
        data = self.cleaned_data
        mapping = {key: data.get(key, "") for key in ("time", "lat", "lon", "category",
                                                      "weight", "rain_mm", "temperature_c",
                                                      "start", "end", "attendance")}
        mapping["name"] = data.get("name_column", "")
        return mapping

    def category_map(self) -> dict:
        pairs = {}
        for line in (self.cleaned_data.get("categories") or "").splitlines():
            if "=" in line:
                label, code = line.split("=", 1)
                pairs[label.strip()] = code.strip()
        return pairs


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(label=gettext_lazy("Source"),
                                    queryset=ImportSource.objects.all())
    file = forms.FileField(label=gettext_lazy("Fichier CSV ou XLSX"))


def _importer(request):
    if not request.user.has_perm("observatory.import_data"):
        raise PermissionDenied(_("Les imports sont réservés aux superviseurs et aux analystes."))


@never_cache
@login_required
def imports(request):
    from django.core.exceptions import ValidationError
    from django.shortcuts import redirect

    from observatory.services import imports as import_services

    _importer(request)
    source_form = SourceForm(request.POST if "save_source" in request.POST else None,
                             prefix="source")
    upload_form = UploadForm(request.POST if "upload" in request.POST else None,
                             request.FILES or None, prefix="upload")
    if "save_source" in request.POST and source_form.is_valid():
        try:
            import_services.import_source_save(by=request.user,
                                        name=source_form.cleaned_data["name"],
                                        kind=source_form.cleaned_data["kind"],
                                        mapping=source_form.mapping(),
                                        categories=source_form.category_map())
        except ValidationError as error:
            form_add_errors(source_form, error)
        else:
            return redirect("observatory:imports")
    if "upload" in request.POST and upload_form.is_valid():
        try:
            run = import_services.import_create(source=upload_form.cleaned_data["source"],
                                         upload=upload_form.cleaned_data["file"],
                                         by=request.user)
        except ValidationError as error:
            form_add_errors(upload_form, error)
        else:
            return redirect("observatory:import", run.pk)
    return render(request, "observatory/imports.html", {
        "runs": ImportRun.objects.select_related("source")[:50],
        "sources": ImportSource.objects.all(), "source_form": source_form,
        "upload_form": upload_form})


@never_cache
@login_required
def import_run(request, pk: int):
    from django.shortcuts import get_object_or_404

    _importer(request)
    run = get_object_or_404(ImportRun.objects.select_related("source"), pk=pk)
    if request.headers.get("Accept", "").startswith("application/json") or \
            request.GET.get("format") == "json":
        return JsonResponse({"status": run.status, "progress": run.progress,
                             "total": run.total, "processed": run.processed,
                             "accepted": run.accepted, "duplicates": run.duplicates,
                             "rejected": run.rejected, "message": run.message,
                             "errors": run.errors[:200]})
    return render(request, "observatory/import.html", {"run": run})
