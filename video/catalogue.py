"""What each analysis is called and which alert category its events raise."""

from django.utils.translation import gettext_lazy as _

RULE_LABELS = {
    "abandoned_object": _("Objet abandonné"),
    "wrong_direction": _("Contresens"),
    "intrusion": _("Intrusion"),
    "person_on_ground": _("Personne au sol"),
    "crowd_movement": _("Mouvement de foule"),
    "density": _("Densité excessive"),
    "fire_smoke": _("Départ de feu"),
    "late_gathering": _("Attroupement nocturne"),
    "loitering": _("Présence prolongée"),
    "line_crossing": _("Comptage de passages"),
}

# Line crossings are statistics, never alerts: they have no category.
RULE_CATEGORIES = {
    "abandoned_object": "objet_abandonne",
    "wrong_direction": "circulation_contresens",
    "intrusion": "intrusion_zone",
    "person_on_ground": "chute_personne",
    "crowd_movement": "mouvement_foule",
    "density": "densite_excessive",
    "fire_smoke": "incendie",
    "late_gathering": "attroupement",
    "loitering": "presence_prolongee",
}

CAMERA_OFFLINE_CATEGORY = "panne_equipement"


def rule_labels() -> dict[str, str]:
    return {name: str(label) for name, label in RULE_LABELS.items()}
