"""Writes of the observatory: imported data sources, their column mapping, uploads and the
import runs that turn their rows into facts (journaled, failures included)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controlroom import geo, journal
from controlroom.permissions import require
from observatory.models import Fact, PublicEvent, WeatherHour
from observatory.services import (
    ACTOR,
    _hour,
    _insert,
    _Sectors,
)

IMPORT = "observatory.import_data"


@transaction.atomic
def import_source_save(*, by, name: str, kind: str, mapping: dict,
                       categories: dict | None = None, source=None):
    """Create or change a source and its column mapping (checked: every field it needs).
    Only those who may import data (analysts, supervisors) describe sources."""
    from django.core.exceptions import ValidationError

    from observatory.models import ImportSource

    require(by, IMPORT, "Les imports sont réservés aux superviseurs et aux analystes.")
    if kind not in ImportSource.Kind.values:
        raise ValidationError({"kind": ["Type de source inconnu."]})
    needed = [f for f in ImportSource.FIELDS[kind] if f not in ImportSource.OPTIONAL]
    missing = [f for f in needed if not str(mapping.get(f) or "").strip()]
    if missing:
        raise ValidationError({"mapping": [f"Colonne à indiquer pour : {', '.join(missing)}."]})
    source = source or ImportSource()
    source.name, source.kind = name.strip(), kind
    source.mapping = {k: str(v).strip() for k, v in mapping.items() if str(v or "").strip()}
    source.categories = {str(k).strip(): str(v).strip()
                         for k, v in (categories or {}).items() if str(k).strip()}
    created = source.pk is None
    source.full_clean()
    source.save()
    journal.record(type="observatory.import_source_saved", subject=source, actor=by, payload={
        "source": source.pk, "name": source.name, "kind": source.kind, "created": created,
        "mapping": source.mapping})
    return source


@transaction.atomic
def import_create(*, source, upload, by):
    """Keep the uploaded file for the worker and queue its import; returns the run. Only those
    who may import data (analysts, supervisors) upload files."""
    import hashlib
    import uuid
    from pathlib import Path

    from django.core.exceptions import ValidationError

    from observatory import importers
    from observatory.models import ImportRun

    require(by, IMPORT, "Les imports sont réservés aux superviseurs et aux analystes.")
    name = Path(upload.name or "").name[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationError({"file": ["Format non pris en charge : CSV ou XLSX seulement."]})
    if upload.size > importers.MAX_BYTES:
        raise ValidationError({"file": ["Fichier de plus de 50 Mo."]})
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
    run = ImportRun.objects.create(source=source, file_name=name, path=str(path),
                                   sha256=digest.hexdigest(),
                                   created_by=None if isinstance(by, str) else by)
    journal.record(type="observatory.import_queued", subject=run, actor=by, payload={
        "run": run.pk, "source": source.name, "file": name, "sha256": run.sha256})
    from observatory import tasks

    transaction.on_commit(lambda: tasks.run_import.delay(run.pk))
    return run


def import_execute(*, run_id: int, chunk: int = 500) -> None:
    """Read, check and write the rows of an import, saving its progress as it goes."""
    from pathlib import Path

    from controlroom.selectors import point_in_city
    from incidents.selectors import category_codes
    from observatory import importers
    from observatory.models import ImportRun

    run = ImportRun.objects.select_related("source").get(pk=run_id)
    if run.status not in (ImportRun.Status.PENDING, ImportRun.Status.FAILED):
        return
    source = run.source
    path = Path(run.path)
    run.status = ImportRun.Status.RUNNING
    run.save(update_fields=["status"])
    try:
        header, rows = importers.read_rows(path, run.file_name)
    except (importers.FileProblem, OSError) as problem:
        _import_fail(run, path, str(problem))
        return
    absent = [c for c in source.mapping.values() if c not in header]
    if absent:
        _import_fail(run, path, f"Colonnes absentes du fichier : {', '.join(absent)}")
        return
    known = category_codes()
    sectors = _Sectors()
    run.total, run.processed = len(rows), 0
    run.accepted = run.rejected = run.duplicates = 0
    run.errors = []
    run.save(update_fields=["total", "processed", "accepted", "rejected", "duplicates",
                            "errors"])
    for start in range(0, len(rows), chunk):
        good = []
        for n, row in enumerate(rows[start:start + chunk], start + 2):  # row 1 is the header
            checked = importers.check_row(source.kind, source.mapping, source.categories, row,
                                          known=known,
                                          in_city=lambda lat, lon: point_in_city(lat=lat,
                                                                                 lon=lon))
            if checked.ok:
                good.append(checked)
            else:
                run.rejected += 1
                if len(run.errors) < 1000:
                    run.errors.append({"row": n, "reasons": checked.reasons})
        added = _import_write(source, good, sectors)
        run.accepted += len(good)
        run.duplicates += len(good) - added
        run.processed = min(len(rows), start + chunk)
        run.save(update_fields=["processed", "accepted", "rejected", "duplicates", "errors"])
    run.status = ImportRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    path.unlink(missing_ok=True)
    journal.record(type="observatory.import_done", subject=run, actor=ACTOR, payload={
        "run": run.pk, "source": source.name, "file": run.file_name, "rows": run.total,
        "accepted": run.accepted, "duplicates": run.duplicates, "rejected": run.rejected})


def _import_fail(run, path, message: str) -> None:
    from observatory.models import ImportRun

    with transaction.atomic():
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED, message=message[:300], finished_at=timezone.now())
        journal.record(type="observatory.import_failed", subject=run, actor=ACTOR, payload={
            "run": run.pk, "source": run.source.name, "file": run.file_name,
            "message": message[:300]})
    path.unlink(missing_ok=True)


def _import_write(source, rows, sectors) -> int:
    """Write checked rows; how many were new."""
    if not rows:
        return 0
    kind = source.kind
    if kind in ("logbook", "damage"):
        facts = []
        for row in rows:
            v = row.values
            cell = geo.h3_cell(v["lat"], v["lon"])
            facts.append(Fact.of(time=v["time"], h3=cell,
                              sector_id=sectors(cell), category=v["category"],
                              source=Fact.Source.IMPORT, weight=v["weight"],
                              origin=f"import:{source.pk}:{row.digest()}"))
        return _insert(facts)
    if kind == "weather":
        added = 0
        for row in rows:
            v = row.values
            _obj, created = WeatherHour.objects.update_or_create(
                hour=_hour(v["time"]), defaults={"rain_mm": v["rain_mm"],
                                                 "temperature_c": v["temperature_c"]})
            added += created
        return added
    before = PublicEvent.objects.count()
    PublicEvent.objects.bulk_create([
        PublicEvent(name=r.values["name"], starts_at=r.values["start"], ends_at=r.values["end"],
                    lat=r.values["lat"], lon=r.values["lon"],
                    h3=geo.h3_cell(r.values["lat"], r.values["lon"]),
                    attendance=r.values["attendance"],
                    origin=f"import:{source.pk}:{r.digest()}") for r in rows],
        ignore_conflicts=True)
    return PublicEvent.objects.count() - before
