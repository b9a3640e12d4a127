from importlib import import_module

from django.apps import AppConfig, apps
from django.contrib.admin.apps import SimpleAdminConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    from controlroom.roles import roles_sync

    roles_sync(strict=False)


class ControlRoomConfig(AppConfig):
    name = "controlroom"
    verbose_name = _("Poste de pilotage")

    def ready(self):
        # After the last app's migrations, so every declared permission exists.
        post_migrate.connect(_sync_roles, dispatch_uid="controlroom.roles_sync")
        from controlroom import live_access

        live_access.connect_signals()


class ControlRoomAdminConfig(SimpleAdminConfig):
    """Django's admin, discovering every app's admin module but django-leaflet's.

    django-leaflet's admin module imports GeoDjango, which needs GDAL; the control room keeps
    geography free of GDAL and uses django-leaflet for its Leaflet assets and template tags only.
    """

    default_site = "django.contrib.admin.sites.AdminSite"

    def ready(self):
        super().ready()
        for app_config in apps.get_app_configs():
            if app_config.name != "leaflet" and module_has_submodule(app_config.module, "admin"):
                import_module(f"{app_config.name}.admin")
