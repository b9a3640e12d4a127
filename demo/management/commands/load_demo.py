from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# The demo's loaders (``demo.<name>``), in the order their objects depend on each other.
LOADERS = ["city", "incidents", "devices", "video", "citizens", "observatory"]


class Command(BaseCommand):
    help = (
        "Load the demo city (Dijon) and each app's demo objects. Running it twice changes nothing. "
        "--scale N then tops the map up to about N objects (40 % incidents, 50 % open alerts, "
        "10 % units) for load tests, adding only what is missing. Those extra rows are "
        "bulk-created, each batch of 1,000 journaled as one 'demo.scaled' event (the services "
        "would write one event per object and take minutes); their incidents start no procedure. "
        "Generated recordings and clips are kept under var/demo-cache/ and reused."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=0, metavar="N",
            help="total number of map objects wanted (incidents, open alerts, units); 0: the "
                 "normal demo only",
        )
        parser.add_argument(
            "--observatory-days", type=int, default=None, metavar="DAYS",
            help="days of synthetic observatory history (default OBSERVATORY_DEMO_DAYS, "
                 f"{settings.OBSERVATORY_DEMO_DAYS}); the tests load a few",
        )

    def handle(self, *args, **options):
        if options["scale"] < 0:
            raise CommandError("--scale must be zero or a positive number.")
        days = options["observatory_days"]
        if days is None:
            days = settings.OBSERVATORY_DEMO_DAYS
        if days < 1:
            raise CommandError("--observatory-days must be at least 1.")
        context: dict = {"scale": options["scale"], "observatory_days": days}
        demos = [import_module(f"demo.{name}") for name in LOADERS]
        for demo in demos:
            with transaction.atomic():
                demo.load(context)
            self.stdout.write(f"  demo: {demo.__name__.split('.')[-1]} ready")
        # Then what needs every app's objects in place (the --scale top-up counts them all).
        for demo in demos:
            if hasattr(demo, "finish"):
                with transaction.atomic():
                    demo.finish(context)
        if "scaled" in context:
            added, after = context["scaled"]["added"], context["scaled"]["after"]
            self.stdout.write(
                "  scale: added " + ", ".join(f"{added[k]} {k}" for k in added)
                + f"; the map now shows {sum(after.values())} objects ("
                + ", ".join(f"{after[k]} {k}" for k in after) + ")"
            )
        self.stdout.write(self.style.SUCCESS("Demo city loaded. Demo logins (local use only):"))
        for username, password, role in context.get("logins", []):
            self.stdout.write(f"  {username:<14} {password:<12} {role}")
        for note in context.get("notes", []):
            self.stdout.write(f"  {note}")
