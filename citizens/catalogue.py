"""The default catalogue of services offered to citizens, mapped onto the incident taxonomy.

Loaded by ``services_ensure_defaults()``; administrators adapt it in the admin afterwards.
Services whose reports may name or locate people do not publish their details over Open311.
"""

from django.db import transaction

from citizens.models import Service, ServiceAttribute
from incidents import selectors as incident_selectors

ROAD = "Voirie et propreté"
PEACE = "Tranquillité publique"

# code, name, description, group, category, severity, publish details, keywords, attributes
# attribute: (code, datatype, question, required, values [(key, name)])
SERVICES = [
    ("eclairage-public", "Éclairage public en panne",
     "Un ou plusieurs lampadaires éteints, qui clignotent ou restent allumés le jour.", ROAD,
     "eclairage_defaillant", 4, True, "lampadaire, lumière, candélabre",
     [("lampadaires", "singlevaluelist", "Combien de lampadaires sont concernés ?", True,
       [("un", "Un seul"), ("plusieurs", "Plusieurs"), ("rue", "Toute la rue")])]),
    ("depot-sauvage", "Dépôt sauvage", "Déchets, encombrants ou gravats abandonnés.", ROAD,
     "depot_sauvage", 4, True, "déchets, encombrants, ordures",
     [("volume", "singlevaluelist", "Quel volume ?", False,
       [("sac", "Quelques sacs"), ("encombrant", "Un ou des encombrants"),
        ("camion", "Une camionnette ou plus")])]),
    ("degradation", "Dégradation du mobilier urbain",
     "Tag, vitre d'abribus brisée, banc ou panneau endommagé.", ROAD, "degradation", 4, True,
     "tag, graffiti, abribus, vandalisme",
     [("nature", "multivaluelist", "De quoi s'agit-il ?", True,
       [("tag", "Tag ou graffiti"), ("vitre", "Vitre brisée"), ("mobilier", "Mobilier cassé"),
        ("signalisation", "Panneau ou feu endommagé")])]),
    ("obstacle-chaussee", "Obstacle sur la chaussée",
     "Objet, branche ou chantier mal signalé qui gêne la circulation.", ROAD,
     "obstacle_chaussee", 3, True, "danger, route, branche", []),
    ("stationnement-genant", "Stationnement gênant",
     "Véhicule sur un passage piéton, une piste cyclable ou devant une sortie.", ROAD,
     "stationnement_genant", 4, False, "voiture, trottoir, parking", []),
    ("nuisance-sonore", "Nuisance sonore",
     "Bruit excessif et répété (musique, travaux hors horaires…).", PEACE, "nuisance_sonore", 3,
     False, "bruit, musique, tapage",
     [("en_cours", "singlevaluelist", "Le bruit a-t-il lieu en ce moment ?", True,
       [("oui", "Oui"), ("non", "Non, c'est terminé")])]),
    ("rassemblement", "Rassemblement gênant",
     "Attroupement qui gêne le passage ou la tranquillité des riverains.", PEACE, "rassemblement",
     3, False, "attroupement, squat", []),
    ("autre", "Autre problème", "Tout autre problème sur l'espace public.", PEACE, "autre", 4,
     False, "", []),
]


@transaction.atomic
def services_ensure_defaults() -> int:
    """Create the default services that do not exist yet; leave existing ones as configured."""
    created = 0
    for order, (code, name, description, group, category, severity, publish, keywords,
                attributes) in enumerate(SERVICES):
        service, new = Service.objects.get_or_create(code=code, defaults={
            "name": name, "description": description, "group": group, "keywords": keywords,
            "category": incident_selectors.category_get(code=category), "severity": severity,
            "publish_details": publish, "order": order,
        })
        if not new:
            continue
        created += 1
        for position, (attr_code, datatype, question, required, values) in enumerate(attributes):
            ServiceAttribute.objects.create(
                service=service, code=attr_code, datatype=datatype, description=question,
                required=required, order=position,
                values=[{"key": key, "name": label} for key, label in values],
            )
    return created
