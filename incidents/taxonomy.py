"""The default incident taxonomy: (code, label, domain, default priority, unit kinds).

Priorities run from 1 (most serious) to 4.

Loaded by ``category_ensure_defaults()``; administrators adapt it in the admin afterwards.
"""

TAXONOMY = [
    # Voie publique
    ("degradation", "Dégradation", "voie_publique", 3, ["patrol_car", "foot_patrol"]),
    ("depot_sauvage", "Dépôt sauvage", "voie_publique", 4, ["technical_team"]),
    ("stationnement_genant", "Stationnement gênant", "voie_publique", 4, ["foot_patrol", "tow_truck"]),
    ("eclairage_defaillant", "Éclairage public défaillant", "voie_publique", 4, ["technical_team"]),
    ("obstacle_chaussee", "Obstacle sur la chaussée", "voie_publique", 3, ["patrol_car", "technical_team"]),
    # Tranquillité publique
    ("nuisance_sonore", "Nuisance sonore", "tranquillite", 3, ["patrol_car", "foot_patrol"]),
    ("rassemblement", "Rassemblement", "tranquillite", 3, ["patrol_car", "bike_patrol"]),
    ("rixe", "Rixe", "tranquillite", 1, ["patrol_car", "dog_unit"]),
    ("ivresse", "Ivresse sur la voie publique", "tranquillite", 3, ["patrol_car"]),
    # Sécurité
    ("agression", "Agression", "securite", 1, ["patrol_car", "ambulance"]),
    ("vol", "Vol", "securite", 2, ["patrol_car", "motorbike"]),
    ("intrusion", "Intrusion", "securite", 2, ["patrol_car", "dog_unit"]),
    ("objet_abandonne", "Objet abandonné", "securite", 2, ["patrol_car", "foot_patrol"]),
    ("coup_de_feu", "Détonation / coup de feu", "securite", 1, ["patrol_car", "ambulance"]),
    ("cri_detresse", "Cri de détresse", "securite", 1, ["patrol_car", "foot_patrol"]),
    ("bris_de_verre", "Bris de verre", "securite", 2, ["patrol_car"]),
    # Secours
    ("personne_au_sol", "Personne au sol", "secours", 2, ["foot_patrol", "ambulance"]),
    ("incendie", "Incendie", "secours", 1, ["fire_engine", "patrol_car"]),
    ("accident_circulation", "Accident de la circulation", "secours", 2,
     ["patrol_car", "ambulance", "fire_engine"]),
    # Protection de la population
    ("inondation", "Inondation", "population", 2, ["fire_engine", "technical_team"]),
    ("pollution", "Pollution de l'air", "population", 3, ["technical_team"]),
    ("canicule", "Canicule", "population", 3, ["technical_team"]),
    ("risque_industriel", "Risque industriel", "population", 1, ["fire_engine"]),
    # Vidéoprotection (alerts raised by the analytics)
    ("intrusion_zone", "Intrusion dans une zone surveillée", "video", 2, ["patrol_car"]),
    ("attroupement", "Attroupement", "video", 3, ["patrol_car", "bike_patrol"]),
    ("chute_personne", "Chute de personne", "video", 2, ["foot_patrol", "ambulance"]),
    ("stationnement_interdit", "Véhicule en stationnement interdit", "video", 4, ["foot_patrol"]),
    ("circulation_contresens", "Circulation à contresens", "video", 1, ["patrol_car", "motorbike"]),
    ("bruit_suspect", "Bruit suspect (détection sonore)", "video", 2, ["patrol_car"]),
    ("mouvement_foule", "Mouvement de foule soudain", "video", 1, ["patrol_car", "ambulance"]),
    ("densite_excessive", "Densité de foule excessive", "video", 2, ["patrol_car", "foot_patrol"]),
    ("presence_prolongee", "Présence prolongée dans une zone", "video", 4, ["foot_patrol"]),
    # Technique
    ("panne_equipement", "Panne d'équipement", "technique", 4, ["technical_team"]),
    ("autre", "Autre", "technique", 3, ["patrol_car"]),
]
