"""The default incident taxonomy: (code, label, domain, default priority, unit kinds).

Loaded by ``category_ensure_defaults()``; administrators adapt it in the admin afterwards.
"""

TAXONOMY = [
    # Voie publique
    ("degradation", "Dégradation", "voie_publique", 2, ["patrol_car", "foot_patrol"]),
    ("depot_sauvage", "Dépôt sauvage", "voie_publique", 1, ["technical_team"]),
    ("stationnement_genant", "Stationnement gênant", "voie_publique", 1, ["foot_patrol", "tow_truck"]),
    ("eclairage_defaillant", "Éclairage public défaillant", "voie_publique", 1, ["technical_team"]),
    ("obstacle_chaussee", "Obstacle sur la chaussée", "voie_publique", 2, ["patrol_car", "technical_team"]),
    # Tranquillité publique
    ("nuisance_sonore", "Nuisance sonore", "tranquillite", 2, ["patrol_car", "foot_patrol"]),
    ("rassemblement", "Rassemblement", "tranquillite", 2, ["patrol_car", "bike_patrol"]),
    ("rixe", "Rixe", "tranquillite", 4, ["patrol_car", "dog_unit"]),
    ("ivresse", "Ivresse sur la voie publique", "tranquillite", 2, ["patrol_car"]),
    # Sécurité
    ("agression", "Agression", "securite", 4, ["patrol_car", "ambulance"]),
    ("vol", "Vol", "securite", 3, ["patrol_car", "motorbike"]),
    ("intrusion", "Intrusion", "securite", 3, ["patrol_car", "dog_unit"]),
    ("objet_abandonne", "Objet abandonné", "securite", 3, ["patrol_car", "foot_patrol"]),
    # Secours
    ("personne_au_sol", "Personne au sol", "secours", 3, ["foot_patrol", "ambulance"]),
    ("incendie", "Incendie", "secours", 4, ["fire_engine", "patrol_car"]),
    ("accident_circulation", "Accident de la circulation", "secours", 3,
     ["patrol_car", "ambulance", "fire_engine"]),
    # Protection de la population
    ("inondation", "Inondation", "population", 3, ["fire_engine", "technical_team"]),
    ("pollution", "Pollution de l'air", "population", 2, ["technical_team"]),
    ("canicule", "Canicule", "population", 2, ["technical_team"]),
    ("risque_industriel", "Risque industriel", "population", 4, ["fire_engine"]),
    # Vidéoprotection (alerts raised by the analytics)
    ("intrusion_zone", "Intrusion dans une zone surveillée", "video", 3, ["patrol_car"]),
    ("attroupement", "Attroupement", "video", 2, ["patrol_car", "bike_patrol"]),
    ("chute_personne", "Chute de personne", "video", 3, ["foot_patrol", "ambulance"]),
    ("stationnement_interdit", "Véhicule en stationnement interdit", "video", 1, ["foot_patrol"]),
    ("circulation_contresens", "Circulation à contresens", "video", 4, ["patrol_car", "motorbike"]),
    ("bruit_suspect", "Bruit suspect (détection sonore)", "video", 3, ["patrol_car"]),
    # Technique
    ("panne_equipement", "Panne d'équipement", "technique", 1, ["technical_team"]),
    ("autre", "Autre", "technique", 2, ["patrol_car"]),
]
