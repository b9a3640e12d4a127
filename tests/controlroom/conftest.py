"""The journal's tests record event types of their own, declared here."""

from tests import event_types  # noqa: F401 - declares the test.* event types
