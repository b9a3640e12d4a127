"""Roles are Django groups with permissions; ``roles_sync()`` keeps them as declared here.

Each app adds the permissions its roles need to ``ROLE_PERMISSIONS``; the groups are brought in
line after every migration, so a deployment never drifts from this file.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

OPERATOR = "operator"
SUPERVISOR = "supervisor"
AGENCY_LIAISON = "agency_liaison"
ADMINISTRATOR = "administrator"
ANALYST = "analyst"

ROLE_LABELS = {
    OPERATOR: "Opérateur",
    SUPERVISOR: "Superviseur",
    AGENCY_LIAISON: "Agent de liaison",
    ADMINISTRATOR: "Administrateur",
    ANALYST: "Analyste",
}

_STAFF = [
    "controlroom.view_event",
    "controlroom.view_all_events",
    "controlroom.view_sector",
    "controlroom.view_city",
    "controlroom.view_agency",
]

# Alerts, incidents, units and procedures, as the control room's operators handle them.
_OPERATIONS = [
    "incidents.view_alert", "incidents.add_alert", "incidents.change_alert",
    "incidents.view_incident", "incidents.add_incident", "incidents.change_incident",
    "incidents.view_all_incidents",
    "incidents.view_unit", "incidents.dispatch_unit",
    "incidents.view_category",
    "incidents.view_procedurerun", "incidents.change_procedurerun",
    "incidents.view_proceduretemplate",
    "citizens.view_report", "citizens.change_report",
    "devices.view_device", "devices.command_device", "devices.view_command",
    "devices.view_commandgroup",
    "devices.view_populationalert", "devices.add_populationalert",
    "devices.view_soundsensor", "devices.view_soundevent", "devices.view_soundlocation",
    "video.view_camera", "video.view_live", "video.view_snapshot", "video.view_videoevent",
    "video.view_zonestatistic", "video.view_screen", "video.route_screen",
    "video.view_screenrouting",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    OPERATOR: [*_STAFF, *_OPERATIONS],
    SUPERVISOR: [
        *_STAFF, *_OPERATIONS,
        "incidents.close_incident", "incidents.skip_mandatory_step",
        "incidents.view_replay", "incidents.manage_crisis", "incidents.run_exercise",
        "observatory.view_observatory", "observatory.import_data",
        "devices.approve_command", "devices.issue_populationalert",
        "video.view_unblurred", "video.approve_sensitive_routing",
    ],
    # A liaison sees the journal and the incidents their agency takes part in, writes notes on
    # them, and reports the positions and statuses of their own agency's units.
    AGENCY_LIAISON: [
        "controlroom.view_event", "controlroom.view_sector", "controlroom.view_city",
        "incidents.view_incident", "incidents.view_unit", "incidents.change_unit",
        "incidents.view_category", "incidents.view_procedurerun",
    ],
    # Administrators manage users, agencies, zones and configuration in the Django admin.
    ADMINISTRATOR: [
        *_STAFF,
        "controlroom.add_user", "controlroom.change_user", "controlroom.view_user",
        "controlroom.add_agency", "controlroom.change_agency", "controlroom.delete_agency",
        "controlroom.add_city", "controlroom.change_city",
        "controlroom.add_sector", "controlroom.change_sector", "controlroom.delete_sector",
        # Roles are declared in this file: their permissions are not edited by hand.
        "auth.view_group",
        "incidents.view_category", "incidents.add_category", "incidents.change_category",
        "incidents.view_proceduretemplate", "incidents.add_proceduretemplate",
        "incidents.change_proceduretemplate", "incidents.delete_proceduretemplate",
        "incidents.view_steptemplate", "incidents.add_steptemplate",
        "incidents.change_steptemplate", "incidents.delete_steptemplate",
        "incidents.view_unit", "incidents.add_unit", "incidents.change_unit",
        "incidents.view_partnersystem", "incidents.add_partnersystem",
        "incidents.change_partnersystem",
        "incidents.view_procedurerun", "incidents.view_steprun",
        "citizens.view_service", "citizens.add_service", "citizens.change_service",
        "citizens.view_serviceattribute", "citizens.add_serviceattribute",
        "citizens.change_serviceattribute", "citizens.delete_serviceattribute",
        "citizens.view_clientapplication", "citizens.add_clientapplication",
        "citizens.change_clientapplication",
        "devices.view_device", "devices.add_device", "devices.change_device",
        "devices.view_command",
        "devices.view_telemetryrule", "devices.add_telemetryrule",
        "devices.change_telemetryrule", "devices.delete_telemetryrule",
        "devices.view_alertrecipient", "devices.add_alertrecipient",
        "devices.change_alertrecipient", "devices.delete_alertrecipient",
        "devices.view_soundsensor", "devices.add_soundsensor", "devices.change_soundsensor",
        "devices.view_soundevent",
        "video.view_camera", "video.add_camera", "video.change_camera", "video.view_live",
        "video.view_screen", "video.add_screen", "video.change_screen", "video.delete_screen",
        "video.view_zonestatistic",
    ],
    # Analysts read the observatory's aggregated, non-personal figures and nothing else.
    ANALYST: [
        "controlroom.view_sector", "controlroom.view_city", "incidents.view_category",
        "observatory.view_observatory", "observatory.import_data",
    ],
}


def _permissions(codes: list[str]):
    query = Q(pk__in=[])
    for code in codes:
        app_label, codename = code.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(query)


def roles_sync(*, strict: bool = True) -> None:
    """Create the role groups and give each exactly the permissions declared above.

    During a migration run, apps migrate one by one and some permissions may not exist yet:
    ``strict=False`` then syncs what exists; the last app's signal completes the picture.
    """
    for name, codes in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = list(_permissions(codes))
        missing = set(codes) - {f"{p.content_type.app_label}.{p.codename}" for p in permissions}
        if missing and strict:
            raise LookupError(f"Unknown permissions for role {name}: {sorted(missing)}")
        group.permissions.set(permissions)
