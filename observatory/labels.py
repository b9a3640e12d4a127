"""Words for the observatory's codes: categories, sources, shifts and table columns, in the
current language, so no page, chart or CSV shows a raw code."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Categories the observatory makes itself (sensors and video), beside the incident taxonomy.
OWN_CATEGORIES = {
    "depassement_sonore": _("Dépassement du seuil sonore"),
    "affluence": _("Affluence (vidéo)"),
}

SHIFTS = {"matin": _("matin"), "après-midi": _("après-midi"), "nuit": _("nuit")}

DAYS = (_("lundi"), _("mardi"), _("mercredi"), _("jeudi"), _("vendredi"), _("samedi"),
        _("dimanche"))

# Column titles, by the key of the rows (the tables on screen and the CSV files).
COLUMNS = {
    "category": _("Catégorie"),
    "code": _("Code"),
    "sector": _("Secteur"),
    "count": _("Nombre de faits"),
    "week": _("Semaine du"),
    "last_year": _("Même semaine l'an passé"),
    "day": _("Jour"),
    "shift": _("Vacation"),
    "incidents": _("Incidents"),
    "ack_p50": _("Prise en compte, médiane (min)"),
    "ack_p90": _("Prise en compte, 90e centile (min)"),
    "dispatch_p50": _("Engagement, médiane (min)"),
    "dispatch_p90": _("Engagement, 90e centile (min)"),
    "on_scene_p50": _("Arrivée sur place, médiane (min)"),
    "on_scene_p90": _("Arrivée sur place, 90e centile (min)"),
}


def humanize(code: str) -> str:
    """Last resort for a code nobody named (an imported file's own category): words, not an
    identifier."""
    words = code.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else code


def category_labels(codes=None) -> dict[str, str]:
    """Labels of category codes: the incident taxonomy's, then the observatory's own."""
    from incidents import selectors as incident_selectors

    known = incident_selectors.category_labels()
    known.update({code: str(label) for code, label in OWN_CATEGORIES.items()})
    if codes is None:
        return known
    return {code: known.get(code) or humanize(code) for code in codes}


def column(key: str) -> str:
    if key.endswith("h") and key[:-1].isdigit():
        return gettext("%(hour)s h") % {"hour": key[:-1]}
    return str(COLUMNS.get(key, key))


def shift(name: str) -> str:
    return str(SHIFTS.get(name, name))
