"""The demo city's guided procedures, read from ``demo/procedures.yaml``."""

from pathlib import Path

from incidents.models import ProcedureTemplate
from incidents.services.procedure_templates import templates_import

DEMO_PROCEDURES = Path(__file__).resolve().parent / "procedures.yaml"
DEMO_ACTOR = "system:demo"


def load_demo_procedures() -> list[ProcedureTemplate]:
    """Import the demo procedures (the taxonomy must exist). Templates that already exist are
    left as they are, so loading twice changes nothing. Returns the templates created."""
    text = DEMO_PROCEDURES.read_text(encoding="utf-8")
    return templates_import(text=text, by=DEMO_ACTOR, skip_existing=True)
