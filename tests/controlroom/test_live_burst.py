"""A burst of 500 events to 100 connected consoles on the real Redis channel layer."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from controlroom import journal, services
from controlroom.models import Agency
from tests.conftest import PASSWORD
from tests.controlroom.live_clients import Console

CONSOLES = 100
EVENTS = 500


@database_sync_to_async
def make_operators(count):
    agency = services.agency_ensure(
        code="pm", name="Police municipale", kind=Agency.Kind.MUNICIPAL_POLICE,
        operates_control_room=True,
    )
    return [
        services.user_ensure(username=f"op{n}", password=PASSWORD, role="operator", agency=agency)
        for n in range(count)
    ]


@database_sync_to_async
def burst(count):
    seqs = []
    for i in range(count):
        with transaction.atomic():
            seqs.append(journal.record(type="test.burst", actor="system:test", payload={"i": i}).seq)
    return seqs


@pytest.mark.django_db(transaction=True)
async def test_a_burst_reaches_every_console_complete_in_order_and_once(needs_redis):
    operators = await make_operators(CONSOLES)
    consoles = [Console(user) for user in operators]
    await asyncio.gather(*(console.connect() for console in consoles))
    start = await database_sync_to_async(journal.head_seq)()
    expected = list(range(start + 1, start + EVENTS + 1))

    writer = asyncio.create_task(burst(EVENTS))
    await asyncio.gather(*(console.run_until(expected[-1], timeout=240) for console in consoles))
    assert await writer == expected

    fetches = sum(console.fetches for console in consoles)
    print(f"{CONSOLES} consoles x {EVENTS} events; gap fills from the API: {fetches}")
    for console in consoles:
        assert [event["seq"] for event in console.events] == expected
        assert [event["payload"]["i"] for event in console.events] == list(range(EVENTS))
    await asyncio.gather(*(console.disconnect() for console in consoles))
