"""Writes to procedure templates: YAML import and the admin's changes, each one journaled.

Runs in progress are never affected: their steps are copies taken when they started.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from controlroom import journal
from controlroom.permissions import require
from incidents.models import ProcedureTemplate, StepTemplate
from incidents.procedure_yaml import template_spec, templates_parse

ADD_TEMPLATE = "incidents.add_proceduretemplate"
CHANGE_TEMPLATE = "incidents.change_proceduretemplate"
DELETE_TEMPLATE = "incidents.delete_proceduretemplate"


@transaction.atomic
def templates_import(*, text: str, by, skip_existing: bool = False) -> list[ProcedureTemplate]:
    """Create or replace procedure templates from YAML, all or nothing.

    A template whose code exists is updated and its steps replaced; step order is the order of
    the list. Any problem raises ValidationError listing them all, and nothing is written.
    ``skip_existing`` leaves templates that already exist as they are (for the demo loader).
    Users need both the add and change permissions on templates.
    """
    message = _("Vous n'avez pas le droit d'importer des modèles de procédure.")
    require(by, ADD_TEMPLATE, message)
    require(by, CHANGE_TEMPLATE, message)
    imported = []
    for draft in templates_parse(text):
        if skip_existing and not draft.created:
            continue
        template = draft.template
        template.save()
        template.steps.all().delete()
        for step in draft.steps:
            step.template = template
        StepTemplate.objects.bulk_create(draft.steps)
        journal.record(
            type="procedure_template.imported",
            subject=template,
            actor=by,
            payload={"created": draft.created, "template": template_spec(template)},
        )
        imported.append(template)
    return imported


@transaction.atomic
def template_saved(*, template: ProcedureTemplate, by, created: bool) -> None:
    """Journal a template (with its steps) as the admin just saved it.

    The admin validates and saves the template and its steps inline; this records the result in
    the same transaction.
    """
    require(by, ADD_TEMPLATE if created else CHANGE_TEMPLATE,
            _("Vous n'avez pas le droit de modifier les modèles de procédure."))
    journal.record(
        type="procedure_template.created" if created else "procedure_template.changed",
        subject=template,
        actor=by,
        payload={"template": template_spec(template)},
    )


@transaction.atomic
def template_delete(*, template: ProcedureTemplate, by) -> None:
    """Delete a template and its steps; runs it started keep their copies."""
    require(by, DELETE_TEMPLATE, _("Vous n'avez pas le droit de supprimer un modèle de procédure."))
    subject = ("incidents", "proceduretemplate", template.pk)
    payload = {"template": template_spec(template)}
    template.delete()
    journal.record(type="procedure_template.deleted", subject=subject, actor=by, payload=payload)
