"""Writes to alerts, incidents, units and procedures: the only way their state changes.

Each service checks who may act, validates, saves and journals in one transaction.
"""
