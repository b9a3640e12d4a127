"""Permission checks shared by every app's services."""

from django.core.exceptions import PermissionDenied


def require(by, permission: str, message: str) -> None:
    """Users must hold ``permission``; system actors (strings, None) act on their own authority."""
    if by is None or isinstance(by, str):
        return
    if not by.has_perm(permission):
        raise PermissionDenied(message)
