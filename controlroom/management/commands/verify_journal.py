from django.core.management.base import BaseCommand, CommandError

from controlroom import journal


class Command(BaseCommand):
    help = "Walk the journal's hash chain and report the first missing or altered event."

    def handle(self, *args, **options):
        checked, problem = journal.verify_chain()
        if problem:
            raise CommandError(f"Journal broken at {problem} ({checked} events verified before it).")
        self.stdout.write(self.style.SUCCESS(f"Journal intact: {checked} events verified."))
