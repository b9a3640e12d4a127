"""Importing outside data: municipal police logbook exports, damage reports, weather history and
public events, from CSV or XLSX files with a column mapping saved per source.

Each row is checked on its own; a rejected row is reported with its number and every reason,
and the others go in. Only the mapped columns are read: names, free text and whatever else an
export holds never enter the observatory. Importing the same file (or the same rows) again
changes nothing: a row's fact is keyed by its source and a digest of its mapped values.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from controlroom import geo

MAX_ROWS = 500_000
MAX_BYTES = 50 * 1024 * 1024
PARIS = ZoneInfo("Europe/Paris")
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d")


class FileProblem(ValueError):
    pass


def read_rows(path: Path, name: str) -> tuple[list[str], list[dict]]:
    """Header and rows of a CSV (comma or semicolon, UTF-8 or Latin-1) or XLSX file."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001 - any unreadable workbook
            raise FileProblem(f"Classeur illisible : {error}") from None
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(v).strip() if v is not None else "" for v in next(rows, [])]
        data = [dict(zip(header, values)) for values in rows
                if any(v not in (None, "") for v in values)]
        book.close()
    elif suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        sample = text[:4096]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        header = [h.strip() for h in reader.fieldnames or []]
        data = [{k.strip() if k else k: v for k, v in row.items()} for row in reader]
    else:
        raise FileProblem("Format non pris en charge : CSV ou XLSX seulement.")
    if not header:
        raise FileProblem("Le fichier n'a pas de ligne d'en-tête.")
    if len(data) > MAX_ROWS:
        raise FileProblem(f"Plus de {MAX_ROWS} lignes : découpez le fichier.")
    return header, data


def parse_time(value) -> datetime:
    """A date and time: an Excel date, ISO 8601, or French day/month/year (local time)."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError("date manquante")
        moment = None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            for fmt in TIME_FORMATS:
                try:
                    moment = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if moment is None:
            raise ValueError(f"date illisible « {text} »")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.astimezone(UTC)


def parse_number(value, name: str) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value or "").strip().replace(",", ".").replace("\u202f", "").replace(" ", "")
    if not text:
        raise ValueError(f"{name} manquant")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} n'est pas un nombre : « {value} »") from None


@dataclass
class Checked:
    """One row, checked: what it becomes, or why it is refused."""

    values: dict
    reasons: list[str]

    @property
    def ok(self) -> bool:
        return not self.reasons

    def digest(self) -> str:
        text = json.dumps(self.values, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_row(kind: str, mapping: dict, categories: dict, row: dict, *, known: set[str],
              in_city) -> Checked:
    """Check one row of a source of ``kind`` (see ``ImportSource.FIELDS``)."""
    reasons: list[str] = []
    values: dict = {}

    def cell(field_name):
        column = mapping.get(field_name)
        return row.get(column) if column else None

    def take(field_name, parse, optional=False):
        raw = cell(field_name)
        if optional and (raw is None or str(raw).strip() == ""):
            return None
        try:
            return parse(raw)
        except ValueError as error:
            reasons.append(str(error))
            return None

    if kind in ("logbook", "damage", "events"):
        lat = take("lat", lambda v: parse_number(v, "latitude"))
        lon = take("lon", lambda v: parse_number(v, "longitude"))
        if lat is not None and lon is not None:
            try:
                lat, lon = geo.check_point(lat, lon)
            except ValueError as error:
                reasons.append(str(error))
            else:
                if not in_city(lat, lon):
                    reasons.append("point hors de la commune")
                values.update(lat=round(lat, 6), lon=round(lon, 6))
    if kind in ("logbook", "damage"):
        values["time"] = take("time", parse_time)
        label = str(cell("category") or "").strip()
        code = categories.get(label, label)
        if not label:
            reasons.append("catégorie manquante")
        elif code not in known:
            reasons.append(f"catégorie « {label} » inconnue : ajoutez-la à la correspondance")
        values["category"] = code
        weight = take("weight", lambda v: parse_number(v, "poids"), optional=True)
        if weight is not None and weight <= 0:
            reasons.append("le poids doit être positif")
        values["weight"] = weight or 1.0
    elif kind == "weather":
        values["time"] = take("time", parse_time)
        rain = take("rain_mm", lambda v: parse_number(v, "pluie"))
        if rain is not None and rain < 0:
            reasons.append("pluie négative")
        values["rain_mm"] = rain
        values["temperature_c"] = take("temperature_c",
                                       lambda v: parse_number(v, "température"), optional=True)
    elif kind == "events":
        name = str(cell("name") or "").strip()
        if not name:
            reasons.append("nom manquant")
        values["name"] = name[:200]
        values["start"] = take("start", parse_time)
        end = take("end", parse_time, optional=True)
        if end is None and values["start"] is not None:
            end = values["start"] + timedelta(hours=6)
        if end is not None and values["start"] is not None and end < values["start"]:
            reasons.append("fin avant le début")
        values["end"] = end
        attendance = take("attendance", lambda v: parse_number(v, "affluence"), optional=True)
        values["attendance"] = int(attendance) if attendance else None
    return Checked(values=values, reasons=reasons)
