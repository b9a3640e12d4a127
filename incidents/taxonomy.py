"""The default incident taxonomy: (code, label, domain, default priority, unit kinds).

Priorities run from 1 (most serious) to 4.

Loaded by ``category_ensure_defaults()``; administrators adapt it in the admin afterwards.
The labels are stored in French; they are marked for the catalogue, so pages translate the
default ones (``incidents.selectors.category_labels``).
"""

from django.utils.translation import gettext_noop

TAXONOMY = [
    # Voie publique
    ("degradation", gettext_noop("Dégradation"), "voie_publique", 3, ["patrol_car", "foot_patrol"]),
    ("depot_sauvage", gettext_noop("Dépôt sauvage"), "voie_publique", 4, ["technical_team"]),
    ("stationnement_genant", gettext_noop("Stationnement gênant"), "voie_publique", 4, ["foot_patrol", "tow_truck"]),
    ("eclairage_defaillant", gettext_noop("Éclairage public défaillant"), "voie_publique", 4, ["technical_team"]),
    ("obstacle_chaussee", gettext_noop("Obstacle sur la chaussée"), "voie_publique", 3, ["patrol_car", "technical_team"]),
    # Tranquillité publique
    ("nuisance_sonore", gettext_noop("Nuisance sonore"), "tranquillite", 3, ["patrol_car", "foot_patrol"]),
    ("rassemblement", gettext_noop("Rassemblement"), "tranquillite", 3, ["patrol_car", "bike_patrol"]),
    ("rixe", gettext_noop("Rixe"), "tranquillite", 1, ["patrol_car", "dog_unit"]),
    ("ivresse", gettext_noop("Ivresse sur la voie publique"), "tranquillite", 3, ["patrol_car"]),
    # Sécurité
    ("agression", gettext_noop("Agression"), "securite", 1, ["patrol_car", "ambulance"]),
    ("vol", gettext_noop("Vol"), "securite", 2, ["patrol_car", "motorbike"]),
    ("intrusion", gettext_noop("Intrusion"), "securite", 2, ["patrol_car", "dog_unit"]),
    ("objet_abandonne", gettext_noop("Objet abandonné"), "securite", 2, ["patrol_car", "foot_patrol"]),
    ("coup_de_feu", gettext_noop("Détonation / coup de feu"), "securite", 1, ["patrol_car", "ambulance"]),
    ("cri_detresse", gettext_noop("Cri de détresse"), "securite", 1, ["patrol_car", "foot_patrol"]),
    ("bris_de_verre", gettext_noop("Bris de verre"), "securite", 2, ["patrol_car"]),
    # Secours
    ("personne_au_sol", gettext_noop("Personne au sol"), "secours", 2, ["foot_patrol", "ambulance"]),
    ("incendie", gettext_noop("Incendie"), "secours", 1, ["fire_engine", "patrol_car"]),
    ("accident_circulation", gettext_noop("Accident de la circulation"), "secours", 2,
     ["patrol_car", "ambulance", "fire_engine"]),
    # Protection de la population
    ("inondation", gettext_noop("Inondation"), "population", 2, ["fire_engine", "technical_team"]),
    ("pollution", gettext_noop("Pollution de l'air"), "population", 3, ["technical_team"]),
    ("canicule", gettext_noop("Canicule"), "population", 3, ["technical_team"]),
    ("risque_industriel", gettext_noop("Risque industriel"), "population", 1, ["fire_engine"]),
    # Vidéoprotection (alerts raised by the analytics)
    ("intrusion_zone", gettext_noop("Intrusion dans une zone surveillée"), "video", 2, ["patrol_car"]),
    ("attroupement", gettext_noop("Attroupement"), "video", 3, ["patrol_car", "bike_patrol"]),
    ("chute_personne", gettext_noop("Chute de personne"), "video", 2, ["foot_patrol", "ambulance"]),
    ("stationnement_interdit", gettext_noop("Véhicule en stationnement interdit"), "video", 4, ["foot_patrol"]),
    ("circulation_contresens", gettext_noop("Circulation à contresens"), "video", 1, ["patrol_car", "motorbike"]),
    ("bruit_suspect", gettext_noop("Bruit suspect (détection sonore)"), "video", 2, ["patrol_car"]),
    ("mouvement_foule", gettext_noop("Mouvement de foule soudain"), "video", 1, ["patrol_car", "ambulance"]),
    ("densite_excessive", gettext_noop("Densité de foule excessive"), "video", 2, ["patrol_car", "foot_patrol"]),
    ("presence_prolongee", gettext_noop("Présence prolongée dans une zone"), "video", 4, ["foot_patrol"]),
    # Technique
    ("panne_equipement", gettext_noop("Panne d'équipement"), "technique", 4, ["technical_team"]),
    ("autre", gettext_noop("Autre"), "technique", 3, ["patrol_car"]),
]
