from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import module_has_submodule

# The control room's own apps, in the order their demo objects depend on each other.
DEMO_APPS = ["controlroom", "incidents", "devices", "video", "citizens", "observatory"]


class Command(BaseCommand):
    help = "Load the demo city (Dijon) and each app's demo objects. Running it twice changes nothing."

    def handle(self, *args, **options):
        context: dict = {}
        installed = {config.name: config for config in apps.get_app_configs()}
        for name in DEMO_APPS:
            config = installed.get(name)
            if config and module_has_submodule(config.module, "demo"):
                with transaction.atomic():
                    import_module(f"{name}.demo").load(context)
                self.stdout.write(f"  demo: {name} ready")
        self.stdout.write(self.style.SUCCESS("Demo city loaded. Demo logins (local use only):"))
        for username, password, role in context.get("logins", []):
            self.stdout.write(f"  {username:<14} {password:<12} {role}")
