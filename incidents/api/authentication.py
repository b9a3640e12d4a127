"""Partner systems authenticate with ``Authorization: Bearer <token>``."""

from dataclasses import dataclass

from django.core.cache import caches
from django.utils import timezone
from django.utils.connection import ConnectionProxy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling

from incidents.models import PartnerSystem


@dataclass
class PartnerPrincipal:
    """Stands for a partner system in ``request.user``: it holds no staff permission."""

    partner: PartnerSystem
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    pk: None = None

    @property
    def agency_id(self):
        return self.partner.agency_id

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def get_all_permissions(self, obj=None) -> set:
        return set()

    def get_username(self) -> str:
        return self.partner.actor_label


class PartnerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1") != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("En-tête Authorization invalide.")
        token = header[1].decode("latin-1")
        partner = PartnerSystem.objects.filter(
            token_digest=PartnerSystem.digest(token), active=True
        ).select_related("agency").first()
        if partner is None:
            raise exceptions.AuthenticationFailed("Jeton inconnu ou révoqué.")
        # One write a minute at most: the timestamp is informative, not an audit trail.
        now = timezone.now()
        if partner.last_used_at is None or (now - partner.last_used_at).total_seconds() > 60:
            PartnerSystem.objects.filter(pk=partner.pk).update(last_used_at=now)
        return PartnerPrincipal(partner), partner

    def authenticate_header(self, request):
        return self.keyword


def partner_of(request) -> PartnerSystem | None:
    return request.user.partner if isinstance(request.user, PartnerPrincipal) else None


class PartnerTokenScheme(OpenApiAuthenticationExtension):
    target_class = PartnerTokenAuthentication
    name = "partnerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Jeton d'un système partenaire"}


class PartnerRateThrottle(throttling.SimpleRateThrottle):
    """Rate limit of the write endpoints open to partner systems, per partner or per user."""

    scope = "partner"
    cache = ConnectionProxy(caches, "ratelimit")  # fails open to a local limit (settings)

    def get_cache_key(self, request, view):
        partner = partner_of(request)
        ident = f"p{partner.pk}" if partner else f"u{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
