"""Write the demo city's street plan (the map's local vector layer) as static GeoJSON."""

from django.core.management.base import BaseCommand

from demo import basemap


class Command(BaseCommand):
    help = "Generate demo/static/demo/dijon-basemap.geojson from the demo city's streets and places."

    def handle(self, *args, **options):
        path = basemap.write()
        self.stdout.write(f"{path} ({len(basemap.basemap_geojson()['features'])} features)")
