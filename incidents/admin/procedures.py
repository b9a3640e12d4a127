"""Admin for procedure templates (edit, export and import as YAML) and runs (read only).

Steps are part of their template: editing them needs the template's permissions, and every save
or deletion goes through the template services, which journal it.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from controlroom.admin import ReadOnlyMixin
from incidents.admin.step_params import StepParamsField, StepTemplateForm
from incidents.models import ProcedureRun, ProcedureTemplate, StepRun, StepTemplate
from incidents.procedure_yaml import (
    MAX_BYTES,
    branch_problems,
    params_problems,
    step_label,
    templates_to_yaml,
)
from incidents.services.procedure_templates import (
    template_delete,
    template_saved,
    templates_import,
)


class StepTemplateFormSet(BaseInlineFormSet):
    """Checks the steps together: unique keys and orders, branches pointing forward, params."""

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        rows = sorted(
            (form.cleaned_data for form in self.forms
             if form.cleaned_data and not form.cleaned_data.get("DELETE")),
            key=lambda row: row["order"],
        )
        orders = [row["order"] for row in rows]
        problems = []
        if len(set(orders)) != len(orders):
            problems.append(_("Deux étapes ont le même ordre."))
        problems += branch_problems(rows)
        for position, row in enumerate(rows, 1):
            problems += [
                f"{step_label(position, row['key'])} : {message}"
                for message in params_problems(row["kind"], row.get("params"))
            ]
        if problems:
            raise ValidationError(problems)


class StepTemplateInline(admin.StackedInline):
    model = StepTemplate
    form = StepTemplateForm
    formset = StepTemplateFormSet
    ordering = ("order",)
    extra = 0
    fields = (("order", "key", "kind", "mandatory"), "instruction", "deadline_seconds",
              "params", ("next_if_yes", "next_if_no"))

    class Media:
        css = {"all": ["controlroom/css/step_params.css"]}
        js = ["controlroom/js/step_params.js"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "params":
            return StepParamsField(label=db_field.verbose_name, required=False)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _may_edit(self, request, obj):
        return request.user.has_perm(
            "incidents.change_proceduretemplate" if obj else "incidents.add_proceduretemplate"
        )

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("incidents.view_proceduretemplate") or self._may_edit(
            request, obj)

    def has_add_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_edit(request, obj)


class ProcedureImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier YAML"),
        help_text=_("Les modèles dont le code existe déjà sont remplacés, étapes comprises. "
                    "Rien n'est importé si le fichier comporte une erreur."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("Le fichier dépasse la taille maximale de 1 Mo."))
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(_("Le fichier doit être un texte encodé en UTF-8.")) from None


@admin.register(ProcedureTemplate)
class ProcedureTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "category", "min_priority", "sector", "active", "updated_at")
    list_filter = ("category", "active")
    list_select_related = ("category", "sector")
    search_fields = ("name", "code")
    inlines = [StepTemplateInline]
    actions = ["export_yaml"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Journaled once the steps are saved too, so the event holds the template as it is now.
        template_saved(template=form.instance, by=request.user, created=not change)

    def delete_model(self, request, obj):
        template_delete(template=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for template in queryset:
            template_delete(template=template, by=request.user)

    @admin.action(description=_("Exporter en YAML"), permissions=["view"])
    def export_yaml(self, request, queryset):
        text = templates_to_yaml(queryset.select_related("category", "sector").order_by("code"))
        response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="procedures.yaml"'
        return response

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view),
                 name="incidents_proceduretemplate_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        form = ProcedureImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                templates = templates_import(text=form.cleaned_data["file"], by=request.user)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, ngettext(
                    "%(count)d modèle de procédure importé : %(codes)s.",
                    "%(count)d modèles de procédure importés : %(codes)s.",
                    len(templates),
                ) % {"count": len(templates), "codes": ", ".join(t.code for t in templates)})
                return redirect("admin:incidents_proceduretemplate_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Importer des modèles de procédure"),
            "form": form,
        }
        return TemplateResponse(request, "admin/incidents/proceduretemplate/import.html", context)


class StepRunInline(ReadOnlyMixin, admin.TabularInline):
    model = StepRun
    ordering = ("order",)
    extra = 0
    can_delete = False
    fields = ("order", "key", "kind", "instruction", "mandatory", "deadline_at", "status",
              "answer", "note", "done_by", "done_at", "reminded_at")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("incidents.view_procedurerun")


@admin.register(ProcedureRun)
class ProcedureRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Runs change only through the console's services, never by hand."""

    list_display = ("name", "incident", "status", "started_at", "finished_at")
    list_filter = ("status",)
    list_select_related = ("incident",)
    search_fields = ("name", "incident__title")
    fields = ("incident", "template", "name", "status", "started_at", "finished_at")
    readonly_fields = fields
    inlines = [StepRunInline]
