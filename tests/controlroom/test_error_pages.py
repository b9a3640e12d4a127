"""Error pages in the site's layout and the visitor's language, with a way back; the API docs
ask a stranger to sign in; browsers find a favicon."""

import pytest
from django.template.loader import render_to_string
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_in_the_layout_with_a_way_back(client):
    response = client.get("/nulle-part/")
    page = response.content.decode()

    assert response.status_code == 404
    assert 'class="topbar"' in page and "Page introuvable" in page
    assert '<a href="/">Retour à l\'accueil</a>' in page
    assert "/connexion/?next=/nulle-part/" in page
    assert "Resolver404" not in page


def test_a_missing_page_in_english(client):
    client.cookies["django_language"] = "en"
    page = client.get("/nulle-part/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Page not found" in page and "Back to the home page" in page


def test_a_refused_page_says_why_in_the_layout(api, people):
    response = api(people["operator"]).get("/observatoire/")
    page = response.content.decode()

    assert response.status_code == 403
    assert "Accès refusé" in page and "réservé aux superviseurs et aux analystes" in page
    assert 'class="topbar"' in page


def test_the_server_error_page_renders_without_a_request():
    with translation.override("fr"):
        page = render_to_string("500.html")
    assert "Erreur du serveur" in page and 'href="/"' in page


def test_the_api_docs_send_a_stranger_to_sign_in(client, api, people):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/connexion/?next=/api/docs/"
    assert api(people["operator"]).get("/api/docs/").status_code == 200


def test_a_favicon_for_browsers(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")
    page = client.get("/signaler/").content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page
