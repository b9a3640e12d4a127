from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents.services.procedure_templates import templates_import

ACTOR = "system:import"


class Command(BaseCommand):
    help = "Create or replace procedure templates from a YAML file, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path", help="YAML file (format: see incidents/procedure_yaml.py)")

    def handle(self, *args, path, **options):
        try:
            with open(path, encoding="utf-8") as stream:
                text = stream.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            templates = templates_import(text=text, by=ACTOR)
        except ValidationError as exc:
            problems = "\n".join(f"  - {message}" for message in exc.messages)
            raise CommandError(f"Nothing imported:\n{problems}") from None
        for template in templates:
            steps = template.steps.count()
            self.stdout.write(f"  {template.code}: {template.name} ({steps} steps)")
        self.stdout.write(self.style.SUCCESS(f"{len(templates)} template(s) imported."))
