"""Demo reports: a street light reported three times (one grouped alert), litter, tags, noise…"""

import io

from PIL import Image, ImageDraw

from citizens import services
from citizens.catalogue import services_ensure_defaults
from citizens.models import ClientApplication, Report, Service
from controlroom.services import configuration_save
from demo.incidents import DEMO_ACTOR, PLACES

# service, place, offset (m north, m east), description, attributes, status, public note, photo
REPORTS = [
    ("eclairage-public", "jaures", (0, 0), "Trois lampadaires éteints devant l'école depuis hier soir.",
     {"lampadaires": "plusieurs"}, "", "", True),
    ("eclairage-public", "jaures", (20, 15), "La rue est dans le noir, c'est dangereux pour les enfants.",
     {"lampadaires": "rue"}, "", "", False),
    ("eclairage-public", "jaures", (-25, 10), "Lampadaire éteint au coin de la rue.",
     {"lampadaires": "un"}, "", "", False),
    ("depot-sauvage", "ouche", (0, 0), "Matelas et gravats au pied de l'immeuble.",
     {"volume": "encombrant"}, "in_progress", "Les services de propreté passeront demain matin.",
     True),
    ("degradation", "liberation", (10, -5), "Tag sur la vitre de l'abribus.",
     {"nature": ["tag", "vitre"]}, "resolved", "La vitre a été nettoyée. Merci pour votre signalement.",
     False),
    ("nuisance-sonore", "berbisey", (0, 30), "Musique très forte dans la rue depuis minuit.",
     {"en_cours": "oui"}, "", "", False),
    ("stationnement-genant", "victor_hugo", (0, 0), "Camionnette garée sur la piste cyclable.",
     {}, "rejected", "Le véhicule était parti à l'arrivée de la patrouille.", False),
    ("obstacle-chaussee", "montchapet", (0, 0), "Grosse branche tombée sur la chaussée après le vent.",
     {}, "", "", False),
]


def _photo(label: str) -> bytes:
    """A small generated picture: the demo ships no photograph of anybody."""
    image = Image.new("RGB", (640, 480), (40, 48, 60))
    draw = ImageDraw.Draw(image)
    for y in range(0, 480, 8):
        draw.line([(0, y), (640, y)], fill=(40 + y // 12, 48 + y // 16, 60 + y // 10))
    draw.rectangle([200, 140, 440, 340], outline=(255, 200, 80), width=6)
    draw.text((24, 24), label, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _offset(place: str, north_m: float, east_m: float) -> tuple[float, float]:
    lat, lon = PLACES[place]
    return lat + north_m / 111_000, lon + east_m / 75_000


def load(context: dict) -> None:
    services_ensure_defaults()
    if not ClientApplication.objects.filter(code="appli-demo").exists():
        client = ClientApplication(code="appli-demo", name="Application citoyenne (démo)")
        key = client.issue_key()
        # Journaled like an administrator's creation (the key's digest only is kept).
        configuration_save(instance=client, by=DEMO_ACTOR, created=True)
        context.setdefault("notes", []).append(
            f"Open311 api_key of the demo application (shown once): {key}"
        )
    for code, place, (north, east), text, attributes, status, note, photo in REPORTS:
        if Report.objects.filter(description=text).exists():
            continue
        lat, lon = _offset(place, north, east)
        report = services.report_submit(submission=services.Submission(
            service=Service.objects.get(code=code), lat=lat, lon=lon, description=text,
            attributes=attributes, photos=[_photo(code)] if photo else [],
        ))
        if status:
            services.report_set_status(report=report, by=DEMO_ACTOR, status=status, note=note)
