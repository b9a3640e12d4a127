from tests.incidents.conftest import make_incident, make_unit  # noqa: F401 - shared fixtures
