"""A socket keeps no more access than its user has now: logging out, deactivation and role
changes close it, an agency change narrows it, and a periodic recheck catches the rest."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client

from controlroom import journal, services
from controlroom.asgi import application
from controlroom.models import User
from tests.controlroom.live_clients import ORIGIN, LiveCommunicator, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_code(socket, within=5.0):
    """Read until the server closes the socket: its close code, or None if it is still open
    after ``within`` seconds. (Heartbeats keep coming, so no read times out: a receive that
    times out would cancel the consumer under test.)"""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return output.get("code")
    return None


async def ready(socket):
    while (await socket.receive_json_from(timeout=5))["kind"] != "ready":
        pass


async def test_logging_out_closes_the_sessions_sockets(people):
    client = Client()
    await database_sync_to_async(client.force_login)(people["operator"])
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    socket = LiveCommunicator(application, "/ws/live/",
                                   headers=[ORIGIN, (b"cookie", cookie.encode())])
    assert (await socket.connect(timeout=10))[0]
    await ready(socket)
    await database_sync_to_async(client.logout)()
    assert await closed_code(socket) == 4401


async def test_deactivating_a_user_closes_their_sockets(people):
    socket, connected, _ = await open_socket(people["operator"])
    assert connected
    await ready(socket)

    @database_sync_to_async
    def deactivate():
        user = User.objects.get(pk=people["operator"].pk)
        user.is_active = False
        services.configuration_save(instance=user, by="system:test")

    await deactivate()
    assert await closed_code(socket) == 4401


async def test_losing_the_role_closes_the_socket(people):
    socket, connected, _ = await open_socket(people["operator"])
    assert connected
    await ready(socket)
    await database_sync_to_async(
        lambda: people["operator"].groups.remove(Group.objects.get(name="operator")))()
    assert await closed_code(socket) == 4401


async def test_an_agency_change_narrows_the_stream_at_once(people, agencies):
    liaison = people["liaison_pn"]
    socket, connected, _ = await open_socket(liaison)
    assert connected
    await ready(socket)

    @database_sync_to_async
    def move_and_record():
        user = User.objects.get(pk=liaison.pk)
        user.agency = agencies["sdis"]
        services.configuration_save(instance=user, by="system:test")

    @database_sync_to_async
    def record(agency):
        with transaction.atomic():
            return journal.record(type="test.happened", actor="system:test",
                                  agencies=[agencies[agency].pk]).seq

    await move_and_record()
    await asyncio.sleep(0.5)  # the recheck message reaches the socket
    for_pn, for_sdis = await record("pn"), await record("sdis")
    seen = []
    while not seen:
        message = await socket.receive_json_from(timeout=5)
        if message["kind"] == "event":
            seen.append(message["seq"])
    assert seen == [for_sdis] and for_pn < for_sdis
    await socket.disconnect()


async def test_a_change_no_signal_announces_is_caught_by_the_periodic_recheck(people, settings):
    settings.LIVE_ACCESS_RECHECK_SECONDS = 0.3
    socket, connected, _ = await open_socket(people["operator"])
    assert connected
    await ready(socket)
    await database_sync_to_async(
        lambda: User.objects.filter(pk=people["operator"].pk).update(is_active=False))()
    assert await closed_code(socket) == 4401


async def test_an_unrelated_change_leaves_the_socket_open(people):
    socket, connected, _ = await open_socket(people["operator"])
    assert connected
    await ready(socket)

    @database_sync_to_async
    def rename():
        user = User.objects.get(pk=people["operator"].pk)
        user.first_name = "Camille"
        services.configuration_save(instance=user, by="system:test")

    await rename()
    assert await closed_code(socket, within=1.0) is None
    await socket.disconnect()
