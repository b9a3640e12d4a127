"""Importing outside data: row-by-row validation with reasons, idempotence, XLSX, progress."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from controlroom import services as config
from controlroom.models import Event
from observatory.models import Fact, ImportRun, ImportSource, PublicEvent, WeatherHour
from observatory.services import imports as import_services
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGBOOK = """N° main courante;Date/heure;Nature;Lat;Long;Agent;Observations
MC-1;02/12/2025 22:15;Tapage nocturne;47,3268;5,0455;Dupont;Musique forte
MC-2;2025-12-02T23:40:00;rixe;47.3225;5.0352;Martin;Bagarre devant le bar
MC-3;31/02/2025 10:00;rixe;47.3225;5.0352;Martin;date impossible
MC-4;03/12/2025 01:00;Tapage nocturne;48.8566;2.3522;Durand;à Paris
MC-5;03/12/2025 02:00;Chien errant;47.3225;5.0352;Durand;catégorie inconnue
MC-6;03/12/2025 03:00;Tapage nocturne;;5.0352;Durand;sans latitude
"""


@pytest.fixture
def logbook(city, categories):
    return import_services.import_source_save(
        by="system:test", name="Main courante PM", kind="logbook",
        mapping={"time": "Date/heure", "category": "Nature", "lat": "Lat", "lon": "Long"},
        categories={"Tapage nocturne": "nuisance_sonore"})


def upload(source, name, content: bytes, by="system:test"):
    return import_services.import_create(source=source, upload=SimpleUploadedFile(name, content),
                                  by=by)


def test_a_logbook_export_imports_row_by_row_with_reasons(logbook, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    run = upload(logbook, "mc.csv", LOGBOOK.encode("utf-8"))
    import_services.import_execute(run_id=run.pk, chunk=2)
    run.refresh_from_db()
    assert run.status == "done" and run.progress == 100
    assert (run.total, run.accepted, run.rejected, run.duplicates) == (6, 2, 4, 0)
    reasons = {e["row"]: " ".join(e["reasons"]) for e in run.errors}
    assert "date illisible" in reasons[4]
    assert "hors de la commune" in reasons[5]
    assert "catégorie « Chien errant » inconnue" in reasons[6]
    assert "latitude manquant" in reasons[7]
    facts = Fact.objects.filter(source="import").order_by("time")
    assert [f.category for f in facts] == ["nuisance_sonore", "rixe"]
    assert facts[0].time == datetime(2025, 12, 2, 21, 15, tzinfo=UTC)  # 22:15 in Paris
    assert all(f.sector_id for f in facts)
    assert not list(tmp_path.joinpath("imports").iterdir())  # the upload is gone once read
    # Nothing of the agents' names or remarks is kept anywhere.
    assert "Dupont" not in str(list(Fact.objects.values())) + str(run.errors)

    again = upload(logbook, "mc-bis.csv", LOGBOOK.encode("utf-8"))
    import_services.import_execute(run_id=again.pk)
    again.refresh_from_db()
    assert (again.accepted, again.duplicates) == (2, 2)
    assert Fact.objects.filter(source="import").count() == 2


def test_weather_from_a_spreadsheet_and_public_events(city, categories, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    weather = import_services.import_source_save(
        by="system:test", name="Météo Dijon-Longvic", kind="weather",
        mapping={"time": "Heure", "rain_mm": "Pluie", "temperature_c": "Temp"})
    book = Workbook()
    sheet = book.active
    sheet.append(["Heure", "Pluie", "Temp"])
    sheet.append([datetime(2025, 12, 2, 10), 1.2, 6.5])
    sheet.append([datetime(2025, 12, 2, 11), 0, 7.0])
    sheet.append(["hier", -3, "chaud"])
    path = tmp_path / "meteo.xlsx"
    book.save(path)
    run = upload(weather, "meteo.xlsx", path.read_bytes())
    import_services.import_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.accepted, run.rejected) == (2, 1)
    assert WeatherHour.objects.get(hour=datetime(2025, 12, 2, 9, tzinfo=UTC)).rain_mm == 1.2
    events = import_services.import_source_save(
        by="system:test", name="Agenda des manifestations", kind="events",
        mapping={"name": "Nom", "start": "Début", "end": "Fin", "lat": "Lat", "lon": "Lon",
                 "attendance": "Public"})
    text = ("Nom,Début,Fin,Lat,Lon,Public\n"
            "Fête de la musique,2025-06-21 18:00,2025-06-22 02:00,47.3268,5.0455,20000\n"
            "Marché de Noël,2025-12-05 10:00,,47.3225,5.0352,\n")
    run = upload(events, "agenda.csv", text.encode())
    import_services.import_execute(run_id=run.pk)
    assert PublicEvent.objects.count() == 2
    assert PublicEvent.objects.get(name="Marché de Noël").ends_at.hour == 15  # 16 h Paris


def test_bad_files_and_mappings_are_refused_clearly(logbook, settings, tmp_path):
    from django.core.exceptions import ValidationError

    settings.VAR_DIR = tmp_path
    with pytest.raises(ValidationError) as error:
        upload(logbook, "mc.pdf", b"%PDF")
    assert "CSV ou XLSX" in str(error.value)
    run = upload(logbook, "autre.csv", b"Quand;Quoi\n2025-12-01;rixe\n")
    import_services.import_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "Colonnes absentes" in run.message
    failed = Event.objects.get(type="observatory.import_failed")
    assert failed.payload["run"] == run.pk and "Colonnes absentes" in failed.payload["message"]
    with pytest.raises(ValidationError) as error:
        import_services.import_source_save(by="system:test", name="Incomplète", kind="logbook",
                                    mapping={"time": "D"})
    assert "lat" in str(error.value)
    assert not Fact.objects.exists()


def test_the_import_pages_upload_and_report_progress(client, logbook, agencies, settings,
                                                    tmp_path):
    settings.VAR_DIR = tmp_path
    analyst = config.user_ensure(username="ana", password=PASSWORD, role="analyst",
                                 agency=agencies["pm"])
    client.force_login(analyst)
    assert client.get("/observatoire/imports/").status_code == 200
    response = client.post("/observatoire/imports/", {
        "upload": "1", "upload-source": logbook.pk,
        "upload-file": SimpleUploadedFile("mc.csv", LOGBOOK.encode())})
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/observatoire/imports/{run.pk}/"
    status = client.get(f"/observatoire/imports/{run.pk}/", {"format": "json"}).json()
    assert status["status"] == "pending" and status["progress"] == 0
    import_services.import_execute(run_id=run.pk)
    status = client.get(f"/observatoire/imports/{run.pk}/", {"format": "json"}).json()
    assert status["progress"] == 100 and status["rejected"] == 4
    page = client.get(f"/observatoire/imports/{run.pk}/").content.decode()
    assert "hors de la commune" in page and "<progress" in page
    bad = client.post("/observatoire/imports/", {"save_source": "1", "source-name": "X",
                                                 "source-kind": "logbook"})
    assert bad.status_code == 200 and "Colonne à indiquer" in bad.content.decode()
    operator = config.user_ensure(username="op2", password=PASSWORD, role="operator",
                                  agency=agencies["pm"])
    client.force_login(operator)
    assert client.get("/observatoire/imports/").status_code == 403
    assert ImportSource.objects.count() == 1


def test_sources_and_uploads_need_the_import_permission_and_are_journaled(
        logbook, agencies, settings, tmp_path):
    from django.core.exceptions import PermissionDenied

    settings.VAR_DIR = tmp_path
    operator = config.user_ensure(username="op3", password=PASSWORD, role="operator",
                                  agency=agencies["pm"])
    analyst = config.user_ensure(username="ana3", password=PASSWORD, role="analyst",
                                 agency=agencies["pm"])
    with pytest.raises(PermissionDenied, match="réservés"):
        import_services.import_source_save(by=operator, name="Sans droit", kind="logbook",
                                    mapping=logbook.mapping)
    with pytest.raises(PermissionDenied, match="réservés"):
        upload(logbook, "mc.csv", LOGBOOK.encode(), by=operator)
    assert ImportSource.objects.count() == 1 and not ImportRun.objects.exists()
    assert not list(tmp_path.glob("imports/*"))

    source = import_services.import_source_save(by=analyst, name="Main courante PM (v2)",
                                         kind="logbook", mapping=logbook.mapping,
                                         categories=logbook.categories, source=logbook)
    run = upload(source, "mc.csv", LOGBOOK.encode(), by=analyst)
    saved = Event.objects.filter(type="observatory.import_source_saved").order_by("seq")
    assert [(e.actor_label, e.payload["created"]) for e in saved] == [
        ("system:test", True), ("ana3", False)]
    queued = Event.objects.get(type="observatory.import_queued")
    assert (queued.actor_id, queued.payload["run"], queued.payload["file"]) == (
        analyst.pk, run.pk, "mc.csv")
    import_services.import_execute(run_id=run.pk)
    done = Event.objects.get(type="observatory.import_done")
    assert done.payload["run"] == run.pk and done.payload["accepted"] == 2
