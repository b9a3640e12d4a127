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


# What each rule parameter means, for the camera form of the admin (pixels are those of the
# analysed image; durations in seconds).
PARAM_LABELS = {
    "clear_seconds": _("fin de situation après (s)"),
    "min_seconds": _("durée minimale (s)"),
    "min_area": _("surface minimale (pixels)"),
    "max_area_fraction": _("surface maximale (part de l'image, 0 à 1)"),
    "min_iou": _("recouvrement minimal (0 à 1)"),
    "min_contrast": _("contraste minimal (0 à 255)"),
    "rate": _("apprentissage du fond (images par seconde)"),
    "min_speed": _("vitesse minimale (pixels/s)"),
    "max_cosine": _("écart maximal à la direction (cosinus, -1 à 1)"),
    "labels": _("objets concernés (séparés par des virgules ; vide : tous)"),
    "tall_ratio": _("rapport hauteur/largeur d'une personne debout"),
    "lying_ratio": _("rapport largeur/hauteur d'une personne allongée"),
    "max_speed": _("vitesse maximale (pixels/s)"),
    "speed": _("vitesse de référence (part de l'image par seconde)"),
    "surge": _("accélération soudaine (multiple de la normale)"),
    "min_fraction": _("part minimale des personnes en mouvement (0 à 1)"),
    "require_dispersal": _("exiger une dispersion"),
    "min_dispersion": _("dispersion minimale (0 à 1)"),
    "normal_seconds": _("durée de référence (s)"),
    "flow_width": _("largeur d'analyse du flux (pixels)"),
    "flow_rate": _("flux minimal (pixels/s)"),
    "max_persons": _("nombre maximal de personnes"),
    "max_fraction": _("occupation maximale (part de la zone, 0 à 1)"),
    "person_area": _("surface d'une personne (part de l'image, 0 à 1 ; vide : personnes détectées seules)"),
    "growth": _("croissance minimale (multiple)"),
    "min_flicker": _("scintillement minimal"),
    "min_saturation": _("saturation minimale (0 à 255)"),
    "min_value": _("luminosité minimale (0 à 255)"),
    "smoke": _("détecter aussi la fumée"),
    "min_smoke_area": _("surface minimale de fumée (pixels)"),
    "min_persons": _("nombre minimal de personnes"),
    "max_seconds": _("durée maximale de présence (s)"),
    "band": _("épaisseur de la ligne (part de l'image)"),
    "coast_seconds": _("tolérance de suivi (s)"),
}
