"""Leaflet.draw's texts (``L.drawLocal``) from the translated catalogue: the drawing tools speak
the page's language. A page passes ``draw_local()`` to its script, which merges it into
``L.drawLocal`` before it makes a draw control."""

from django.utils.translation import gettext as _


def draw_local() -> dict:
    return {
        "draw": {
            "toolbar": {
                "actions": {"title": _("Annuler le tracé"), "text": _("Annuler")},
                "finish": {"title": _("Terminer le tracé"), "text": _("Terminer")},
                "undo": {"title": _("Effacer le dernier point"),
                         "text": _("Effacer le dernier point")},
                "buttons": {
                    "polyline": _("Tracer une ligne"), "polygon": _("Tracer une zone"),
                    "rectangle": _("Tracer un rectangle"), "circle": _("Tracer un cercle"),
                    "marker": _("Placer un point"), "circlemarker": _("Placer un repère rond"),
                },
            },
            "handlers": {
                "circle": {"tooltip": {"start": _("Cliquez et faites glisser pour tracer un "
                                                  "cercle.")},
                           "radius": _("Rayon")},
                "circlemarker": {"tooltip": {"start": _("Cliquez sur la carte pour placer le "
                                                        "repère.")}},
                "marker": {"tooltip": {"start": _("Cliquez sur la carte pour placer le point.")}},
                "polygon": {"tooltip": {
                    "start": _("Cliquez pour commencer la zone."),
                    "cont": _("Cliquez pour continuer la zone."),
                    "end": _("Cliquez sur le premier point pour fermer la zone."),
                }},
                "polyline": {
                    "error": _("<strong>Erreur :</strong> les côtés ne doivent pas se croiser."),
                    "tooltip": {
                        "start": _("Cliquez pour commencer la ligne."),
                        "cont": _("Cliquez pour continuer la ligne."),
                        "end": _("Cliquez sur le dernier point pour terminer la ligne."),
                    },
                },
                "rectangle": {"tooltip": {"start": _("Cliquez et faites glisser pour tracer "
                                                     "un rectangle.")}},
                "simpleshape": {"tooltip": {"end": _("Relâchez pour terminer le tracé.")}},
            },
        },
        "edit": {
            "toolbar": {
                "actions": {
                    "save": {"title": _("Enregistrer les modifications"),
                             "text": _("Enregistrer")},
                    "cancel": {"title": _("Abandonner les modifications"),
                               "text": _("Annuler")},
                    "clearAll": {"title": _("Tout effacer"), "text": _("Tout effacer")},
                },
                "buttons": {
                    "edit": _("Modifier les tracés"),
                    "editDisabled": _("Aucun tracé à modifier"),
                    "remove": _("Effacer des tracés"),
                    "removeDisabled": _("Aucun tracé à effacer"),
                },
            },
            "handlers": {
                "edit": {"tooltip": {
                    "text": _("Faites glisser les poignées ou les points pour modifier."),
                    "subtext": _("Cliquez sur Annuler pour abandonner les modifications."),
                }},
                "remove": {"tooltip": {"text": _("Cliquez sur un tracé pour l'effacer.")}},
            },
        },
    }
