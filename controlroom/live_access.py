"""A console's socket keeps no more access than its user has now.

Each socket joins a channel-layer group of its own user. When a user logs out, is deactivated,
changes password, agency or roles (or a role's permissions change), a "recheck" message goes to
that group once the change is committed; each socket then reads its session and user again and
closes, or narrows what it streams. Sockets also recheck periodically (``LIVE_ACCESS_RECHECK_SECONDS``),
which catches changes made where no signal fires (a raw SQL update).
"""

import logging
from importlib import import_module

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model, user_logged_out
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"live-user.{user_id}"


def session_store(session_key: str | None):
    """A fresh read of a session (not the copy a socket loaded when it connected)."""
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key)


def _send(user_ids, ended_session: str | None) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for user_id in sorted(set(user_ids)):
        try:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "access.recheck", "ended_session": ended_session})
        except Exception:  # noqa: BLE001 - the periodic recheck still comes
            logger.warning("Could not ask user %s's sockets to recheck", user_id, exc_info=True)


def sockets_recheck(user_ids, *, ended_session: str | None = None) -> None:
    """Ask the users' sockets to check their access again, once the current transaction commits."""
    user_ids = [pk for pk in user_ids if pk is not None]
    if user_ids:
        transaction.on_commit(lambda: _send(user_ids, ended_session))


# --- what triggers a recheck -----------------------------------------------------------------
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        session = getattr(request, "session", None)
        sockets_recheck([user.pk], ended_session=getattr(session, "session_key", None))


def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    # A login saves last_login only: nothing that bears on access.
    if not created and set(update_fields or ()) != {"last_login"}:
        sockets_recheck([instance.pk])


def _user_deleted(sender, instance, **kwargs):
    sockets_recheck([instance.pk])


def _user_m2m_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A user's groups or single permissions changed (from either side of the relation)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        sockets_recheck([instance.pk])
    elif action == "pre_clear":
        sockets_recheck(list(instance.user_set.values_list("pk", flat=True)))
    else:
        sockets_recheck(list(pk_set or ()))


def _group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    User = get_user_model()
    groups = [instance.pk] if not reverse else list(pk_set or ())
    if reverse and action == "pre_clear":
        groups = list(instance.group_set.values_list("pk", flat=True))
    sockets_recheck(list(User.objects.filter(groups__in=groups).values_list("pk", flat=True)))


def connect_signals() -> None:
    User = get_user_model()
    user_logged_out.connect(_logged_out, dispatch_uid="live_access.logged_out")
    post_save.connect(_user_saved, sender=User, dispatch_uid="live_access.user_saved")
    post_delete.connect(_user_deleted, sender=User, dispatch_uid="live_access.user_deleted")
    for through in (User.groups.through, User.user_permissions.through):
        m2m_changed.connect(_user_m2m_changed, sender=through,
                            dispatch_uid=f"live_access.{through.__name__}")
    m2m_changed.connect(_group_permissions_changed, sender=Group.permissions.through,
                        dispatch_uid="live_access.group_permissions")
