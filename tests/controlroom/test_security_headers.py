"""Production settings: Secure cookies and HSTS out of debug, and a Content-Security-Policy that
allows scripts from our own files only — which the templates respect."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def settings_in_subprocess(**env) -> dict:
    code = ("import json; from controlroom import settings as s; print(json.dumps("
            "[s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS]))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, **env}, check=True)
    return dict(zip(["session", "csrf", "hsts"], __import__("json").loads(result.stdout)))


def test_cookies_are_secure_and_hsts_on_out_of_debug():
    production = settings_in_subprocess(DJANGO_DEBUG="0", DJANGO_SECURE_COOKIES="",
                                        DJANGO_HSTS_SECONDS="")
    assert production["session"] and production["csrf"] and production["hsts"] >= 31536000
    debug = settings_in_subprocess(DJANGO_DEBUG="1", DJANGO_SECURE_COOKIES="",
                                   DJANGO_HSTS_SECONDS="")
    assert not debug["session"] and debug["hsts"] == 0


def test_https_answers_carry_hsts(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/connexion/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def csp_directives(response) -> dict:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_carry_a_policy_with_scripts_from_our_own_files_only(api, people):
    response = api(people["operator"]).get("/console/")
    assert response.status_code == 200
    policy = csp_directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_the_api_docs_need_no_inline_script(api, people):
    page = api(people["operator"]).get("/api/docs/")
    assert page.status_code == 200
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", page.content.decode())


def test_no_template_has_an_inline_script_or_handler():
    offenders = []
    for folder in (ROOT / "templates", *ROOT.glob("*/templates")):
        for path in folder.rglob("*.html"):
            text = path.read_text()
            if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>", text) \
                    or re.search(r"\son[a-z]+\s*=\s*[\"']", text) or "javascript:" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
