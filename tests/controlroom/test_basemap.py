"""The street plan drawn when the maps have no tile server: the demo city's main streets and
named places, shipped as static GeoJSON generated from the demo's data."""

import json

import pytest
from django.contrib.staticfiles import finders

from demo import basemap
from demo.incidents import PLACES


def test_the_shipped_plan_is_the_generated_one():
    assert basemap.OUTPUT.read_text(encoding="utf-8") == basemap.basemap_text(), (
        "run: manage.py build_basemap")
    assert finders.find("demo/dijon-basemap.geojson") == str(basemap.OUTPUT)


def test_the_plan_names_main_streets_and_the_demo_places():
    plan = json.loads(basemap.basemap_text())
    streets = {f["properties"]["name"] for f in plan["features"]
               if f["geometry"]["type"] == "LineString"}
    places = {f["properties"]["name"]: f["geometry"]["coordinates"] for f in plan["features"]
              if f["geometry"]["type"] == "Point"}
    assert len(streets) >= 20
    assert {"Rue de la Liberté", "Avenue Maréchal Foch", "Boulevard Carnot"} <= streets
    assert places["Place Darcy"] == [PLACES["darcy"][1], PLACES["darcy"][0]]
    assert "Gare Dijon-Ville" in places and "Place de la République" in places
    for feature in plan["features"]:
        coordinates = feature["geometry"]["coordinates"]
        points = coordinates if feature["geometry"]["type"] == "LineString" else [coordinates]
        for lon, lat in points:  # all within reach of Dijon
            assert 4.95 < lon < 5.10 and 47.28 < lat < 47.37


@pytest.mark.parametrize("tiles, setting, expected", [
    ("", "demo/dijon-basemap.geojson", "/static/demo/dijon-basemap.geojson"),
    ("", "/plans/ville.geojson", "/plans/ville.geojson"),
    ("", "", ""),
    ("https://tiles.example.org/{z}/{x}/{y}.png", "demo/dijon-basemap.geojson", ""),
])
def test_the_console_draws_the_plan_only_without_tiles(settings, tiles, setting, expected):
    from console.views.console import basemap_url

    settings.LEAFLET_CONFIG = {**settings.LEAFLET_CONFIG, "TILES": tiles}
    settings.MAP_BASEMAP_URL = setting
    assert basemap_url() == expected
