from django.core.management.base import BaseCommand, CommandError

from incidents.models import ProcedureTemplate
from incidents.procedure_yaml import templates_to_yaml


class Command(BaseCommand):
    help = "Export procedure templates as YAML (all of them, or those whose codes are given)."

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*", help="template codes (default: all)")
        parser.add_argument("--output", "-o", help="write to this file instead of stdout")

    def handle(self, *args, codes, output, **options):
        templates = ProcedureTemplate.objects.select_related("category", "sector").order_by("code")
        if codes:
            templates = templates.filter(code__in=codes)
            missing = sorted(set(codes) - {t.code for t in templates})
            if missing:
                raise CommandError(f"Unknown template code(s): {', '.join(missing)}")
        text = templates_to_yaml(templates)
        if output:
            with open(output, "w", encoding="utf-8") as stream:
                stream.write(text)
            self.stderr.write(f"{templates.count()} template(s) written to {output}")
        else:
            self.stdout.write(text, ending="")
