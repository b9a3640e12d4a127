"""Event types that only the tests record: the journal refuses any type nobody declared."""

from controlroom import events

TEST_TYPES = ("test.happened", "test.burst", "test.concurrent", "test.internal", "test.other",
              "test.rewritten", "test.shared")


def declare() -> None:
    for type in TEST_TYPES:
        events.register(type, app="tests", label=type, replay=events.NOT_REPLAYED)


declare()
