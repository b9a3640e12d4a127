"""Alerts, incidents, field units and guided procedures."""

from incidents.models.alerts import Alert, PartnerSystem
from incidents.models.crisis import Crisis, Drawing, LogEntry, Task
from incidents.models.exercises import Exercise
from incidents.models.incidents import Category, Incident
from incidents.models.procedures import ProcedureRun, ProcedureTemplate, StepRun, StepTemplate
from incidents.models.replay import ReplayCheckpoint
from incidents.models.units import Assignment, Unit

__all__ = [
    "Alert",
    "Assignment",
    "Category",
    "Crisis",
    "Drawing",
    "Exercise",
    "Incident",
    "LogEntry",
    "PartnerSystem",
    "ProcedureRun",
    "ProcedureTemplate",
    "ReplayCheckpoint",
    "StepRun",
    "StepTemplate",
    "Task",
    "Unit",
]
