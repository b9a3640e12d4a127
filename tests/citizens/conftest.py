"""Fixtures for citizens' reports: the default catalogue, an Open311 application, photos."""

import io

import pytest
from PIL import Image

from citizens import services
from citizens.catalogue import services_ensure_defaults
from citizens.models import ClientApplication, Service

# Places inside Dijon, (lat, lon); PARIS is outside.
JAURES = (47.3075, 5.0325)
DARCY = (47.3225, 5.0352)
PARIS = (48.8566, 2.3522)


@pytest.fixture
def catalogue(city, categories):
    services_ensure_defaults()
    return {service.code: service for service in Service.objects.all()}


@pytest.fixture
def open311_app(db):
    app = ClientApplication(code="appli-test", name="Application de test")
    key = app.issue_key()
    app.save()
    app.key = key
    return app


def photo(fmt="JPEG", size=(800, 600), gps=False, orientation=None, colour=(200, 80, 40)) -> bytes:
    """An image in ``fmt``; with ``gps``, EXIF that places it in Dijon and names the camera."""
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    extra = {}
    if gps or orientation:
        exif = Image.Exif()
        exif[0x010F] = "CameraMaker"  # Make
        exif[0x0110] = "SecretPhone 12"  # Model
        if orientation:
            exif[0x0112] = orientation
        if gps:
            exif[0x8825] = {1: "N", 2: (47.0, 19.0, 21.0), 3: "E", 4: (5.0, 2.0, 7.0)}
        extra["exif"] = exif
    image.save(out, format=fmt, **extra)
    return out.getvalue()


def submit(service, place=JAURES, **fields):
    """Take a report through the service, as the form would."""
    return services.report_submit(submission=services.Submission(
        service=service, lat=place[0], lon=place[1],
        description=fields.pop("description", "Lampadaire éteint devant le numéro 4."),
        attributes=fields.pop("attributes", {"lampadaires": "un"}), **fields,
    ))


def metres_north(place, metres):
    return place[0] + metres / 111_000, place[1]
