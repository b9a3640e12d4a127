"""Units: nearest-unit suggestion, dispatch, statuses and positions."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from controlroom.errors import StateConflict
from controlroom.models import Event
from incidents import selectors
from incidents.models import Assignment, Incident
from incidents.services import incidents as incident_services
from incidents.services import units as services
from tests.incidents.conftest import DARCY, GARE, PARIS, REPUBLIQUE, TOISON, UNIVERSITE, unit_status


@pytest.mark.django_db
def test_nearest_available_units_by_travel_time(city, make_unit):
    near = make_unit("PM-NEAR", place=REPUBLIQUE)
    mid = make_unit("PM-MID", place=DARCY)
    far = make_unit("PM-FAR", place=TOISON)
    busy = make_unit("PM-BUSY", place=REPUBLIQUE)
    busy.status = "unavailable"
    busy.save()
    walker = make_unit("PM-PED", kind="foot_patrol", place=DARCY)

    found = selectors.units_nearest(lat=REPUBLIQUE[0], lon=REPUBLIQUE[1], limit=10)
    names = [s.unit.call_sign for s in found]
    assert names[:3] == ["PM-NEAR", "PM-MID", "PM-FAR"]
    assert "PM-BUSY" not in names
    # A walker at the same place as a car arrives later.
    assert names.index("PM-PED") > names.index("PM-MID")
    assert found[0].eta_seconds < found[1].eta_seconds
    assert found[0].distance_m < 50

    cars_only = selectors.units_nearest(lat=DARCY[0], lon=DARCY[1], kinds=["foot_patrol"])
    assert [s.unit for s in cars_only] == [walker]
    assert {near, mid, far} <= {s.unit for s in found}


@pytest.mark.django_db
def test_units_beyond_the_rings_are_still_found(city, make_unit):
    # Farther than the widest ring (6 coarse cells, about 8 km): found by the fallback.
    make_unit("LOIN", place=(47.45, 5.25))
    found = selectors.units_nearest(lat=DARCY[0], lon=DARCY[1])
    assert [s.unit.call_sign for s in found] == ["LOIN"]


@pytest.mark.django_db
def test_suggestions_follow_the_category(make_incident, make_unit):
    make_unit("PM-1", place=REPUBLIQUE)
    make_unit("SAMU-1", kind="ambulance", place=UNIVERSITE, agency="sdis")
    make_unit("ST-1", kind="technical_team", place=REPUBLIQUE)
    incident = make_incident(category="personne_au_sol")
    kinds = {s.unit.kind for s in selectors.incident_suggestions(incident=incident)}
    assert kinds == {"ambulance"}


@pytest.mark.django_db
def test_assigning_a_unit_dispatches_the_incident(make_incident, make_unit, people, agencies):
    incident = make_incident(place=GARE)
    unit = make_unit("VSAV-1", kind="ambulance", place=DARCY, agency="sdis")
    assignment = services.unit_assign(incident=incident, unit=unit, by=people["operator"])
    incident.refresh_from_db()
    assert incident.status == "dispatched"
    assert unit_status(unit) == "en_route"
    assert assignment.eta_seconds > 0 and assignment.distance_m > 500
    # The unit's agency now takes part: its liaison sees the incident.
    assert agencies["sdis"] in incident.agencies.all()
    visible = selectors.incidents_visible_to(user=people["liaison_sdis"])
    assert list(visible) == [incident]
    types = [e.type for e in Event.objects.filter(subject_id=str(incident.pk),
                                                  subject_model="incident").order_by("seq")]
    assert types[-4:] == ["incident.agency_added", "incident.unit_assigned",
                          "incident.status_changed", "incident.status_changed"]


@pytest.mark.django_db
def test_a_busy_unit_cannot_be_assigned_and_nothing_changes(make_incident, make_unit, people):
    first, second = make_incident(), make_incident()
    free = make_unit("PM-1")
    taken = make_unit("PM-2")
    services.unit_assign(incident=first, unit=taken, by=people["operator"])
    events = Event.objects.count()
    with pytest.raises(StateConflict):
        services.units_assign(incident=second, units=[free, taken], by=people["operator"])
    assert unit_status(free) == "available"
    assert Assignment.objects.filter(incident=second).count() == 0
    assert Event.objects.count() == events
    second.refresh_from_db()
    assert second.status == "new"


@pytest.mark.django_db
def test_liaisons_cannot_dispatch(make_incident, make_unit, people):
    with pytest.raises(PermissionDenied):
        services.unit_assign(incident=make_incident(), unit=make_unit("PM-1"),
                             by=people["liaison_pn"])


@pytest.mark.django_db
def test_arrival_and_resolution_drive_the_incident_and_free_the_units(
    make_incident, make_unit, people
):
    incident = make_incident()
    car, bike = make_unit("PM-1"), make_unit("VTT-1", kind="bike_patrol")
    services.units_assign(incident=incident, units=[car, bike], by=people["operator"])
    services.unit_status_set(unit=car, status="on_scene", by=people["operator"])
    incident.refresh_from_db()
    assert incident.status == "on_scene"
    assert Assignment.objects.get(unit=car, released_at=None).on_scene_at is not None
    incident_services.incident_transition(incident=incident, to="resolved", by=people["operator"])
    assert unit_status(car) == unit_status(bike) == "available"
    assert not Assignment.objects.filter(released_at=None).exists()


@pytest.mark.django_db
def test_a_unit_without_assignment_cannot_be_on_scene(make_unit, people, city):
    with pytest.raises(StateConflict):
        services.unit_status_set(unit=make_unit("PM-1"), status="on_scene", by=people["operator"])
    with pytest.raises(ValidationError):
        services.unit_status_set(unit=make_unit("PM-2"), status="en_route", by=people["operator"])


@pytest.mark.django_db
def test_released_unit_and_unavailable_unit(make_incident, make_unit, people):
    incident = make_incident()
    unit = make_unit("PM-1")
    services.unit_assign(incident=incident, unit=unit, by=people["operator"])
    services.unit_status_set(unit=unit, status="unavailable", by=people["operator"])
    assert unit_status(unit) == "unavailable"
    assert not Assignment.objects.filter(unit=unit, released_at=None).exists()
    with pytest.raises(StateConflict):
        services.unit_release(incident=incident, unit=unit, by=people["operator"])


@pytest.mark.django_db
def test_positions_are_journaled_and_out_of_order_ones_ignored(make_unit, people, city):
    unit = make_unit("PM-1")
    now = timezone.now()
    services.unit_position_report(unit=unit, lat=GARE[0], lon=GARE[1], by=people["operator"],
                                  at=now)
    services.unit_position_report(unit=unit, lat=TOISON[0], lon=TOISON[1],
                                  by=people["operator"], at=now - timezone.timedelta(seconds=5))
    unit.refresh_from_db()
    assert (unit.lat, unit.lon) == GARE
    positions = Event.objects.filter(type="unit.position", subject_id=str(unit.pk))
    assert positions.count() == 1
    assert positions.get().agencies == [unit.agency_id]
    with pytest.raises(ValidationError):
        services.unit_position_report(unit=unit, lat=PARIS[0], lon=PARIS[1], by=people["operator"])
    with pytest.raises(ValidationError):
        services.unit_position_report(unit=unit, lat="north", lon=5, by=people["operator"])


@pytest.mark.django_db
def test_a_liaison_reports_for_the_own_agency_units_only(make_unit, people, city):
    national = make_unit("PN-1", agency="pn")
    municipal = make_unit("PM-1")
    services.unit_position_report(unit=national, lat=GARE[0], lon=GARE[1],
                                  by=people["liaison_pn"])
    with pytest.raises(PermissionDenied):
        services.unit_position_report(unit=municipal, lat=GARE[0], lon=GARE[1],
                                      by=people["liaison_pn"])
    services.unit_status_set(unit=national, status="unavailable", by=people["liaison_pn"])
    assert unit_status(national) == "unavailable"


@pytest.mark.django_db
def test_new_incidents_are_placed_in_their_sector(make_incident):
    incident = make_incident(place=GARE)
    assert incident.sector is not None
    assert Incident.objects.get(pk=incident.pk).h3 == incident.h3
