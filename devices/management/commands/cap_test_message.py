from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from controlroom.models import Sector
from devices.services import population


class Command(BaseCommand):
    help = (
        "Publish a CAP 1.2 message with status=Test, for the periodic end-to-end test of the "
        "alert chain: it is served like any message, listed in the test feed "
        "(/cap/flux-test.atom, not the public feed) and sent to the recipients marked TEST; "
        "no panel and no siren is ever commanded. Run it from cron, e.g. once a week."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sector", help="code of the sector (default: the whole city)")
        parser.add_argument("--hours", type=float, default=1.0,
                            help="how long the test message stays valid (default 1)")

    def handle(self, *args, **options):
        sector = None
        if options["sector"]:
            sector = Sector.objects.filter(code=options["sector"]).first()
            if sector is None:
                raise CommandError(f"No sector with code {options['sector']!r}.")
        if not 0 < options["hours"] <= 48:
            raise CommandError("--hours must be between 0 and 48.")
        try:
            alert = population.population_alert_test(by="system:cap-test", sector=sector,
                                                     hours=options["hours"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{alert.identifier} {reverse('cap-message', args=[alert.identifier])}")
