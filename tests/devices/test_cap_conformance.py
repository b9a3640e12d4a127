"""Population alerts as CAP consumers and alert hubs check them: Alert, Update, Cancel after an
Update and Test messages, signed and unsigned, validated by the OASIS CAP 1.2 schema (lxml) and
by the rules schemas cannot express — the references chain, what a Cancel says, <web> and
<contact>, <responseType>, the signature against the configured certificate, -00:00 for UTC,
and test messages kept off the public feed, the panels and the sirens."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from lxml import etree
from signxml import XMLVerifier

from devices import cap
from devices import selectors as devices_selectors
from devices.models import AlertRecipient, Command, PopulationAlert
from devices.services import population
from tests.conftest import CAP_SCHEMA
from tests.devices.test_population_alerts import centre  # noqa: F401 - the fixture
from tests.devices.test_population_alerts import draft as draft_severe

pytestmark = pytest.mark.django_db

NS = {"cap": cap.CAP_NS, "ds": "http://www.w3.org/2000/09/xmldsig#",
      "a": "http://www.w3.org/2005/Atom"}
CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
XSD = etree.XMLSchema(etree.parse(str(CAP_SCHEMA)))


def throwaway_identity(kind="rsa"):
    """A private key and its self-signed certificate, made for the test (PEM bytes)."""
    key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa"
           else ec.generate_private_key(ec.SECP256R1()))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "poste-de-pilotage.test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(params=["unsigned", "signed"])
def signing(request, settings, tmp_path):
    """None, or the certificate CAP messages are signed with (key and certificate configured
    as the README says)."""
    if request.param == "unsigned":
        settings.CAP_SIGNING_KEY_FILE = settings.CAP_SIGNING_CERT_FILE = ""
        return None
    key, cert = throwaway_identity()
    (tmp_path / "cap.key").write_bytes(key)
    (tmp_path / "cap.crt").write_bytes(cert)
    settings.CAP_SIGNING_KEY_FILE = str(tmp_path / "cap.key")
    settings.CAP_SIGNING_CERT_FILE = str(tmp_path / "cap.crt")
    return cert


def draft(by, area, **changes):
    """The population alerts tests' draft, as an extreme danger."""
    return draft_severe(by, area, **{"severity": "Extreme", **changes})


def issue(people, alert):
    return population.population_alert_issue(alert=alert, by=people["supervisor"])


def follow(people, original, msg_type, **changes):
    return issue(people, population.population_alert_follow_up(
        original=original, by=people["operator"], msg_type=msg_type, **changes))


def published(client, alert, signing):
    """The message as served, checked by the schema and, when signing, by its signature."""
    response = client.get(f"/cap/{alert.identifier}.xml")
    assert response.status_code == 200 and response["Content-Type"] == cap.CAP_MIME_TYPE
    root = etree.fromstring(response.content)
    XSD.assertValid(root)
    signatures = root.findall("ds:Signature", NS)
    if signing is None:
        assert signatures == []
    else:
        assert len(signatures) == 1 and root[-1] is signatures[0]  # enveloped, last child
        cap.verify(response.content, cert=signing)
        signed = XMLVerifier().verify(response.content, x509_cert=signing.decode()).signed_xml
        assert signed.findtext("cap:identifier", namespaces=NS) == alert.identifier
        tampered = response.content.replace(alert.headline.encode(), b"Tout va bien", 1)
        with pytest.raises(cap.CapError):
            cap.verify(tampered, cert=signing)
    for element in root.iter(f"{{{cap.CAP_NS}}}sent", f"{{{cap.CAP_NS}}}expires"):
        assert CAP_TIME.match(element.text), element.text
    return root


def text(root, path):
    return root.findtext(path, namespaces=NS)


def references(root):
    return [tuple(ref.split(",")) for ref in text(root, "cap:references").split()]


def test_alert_update_and_cancel_after_update(client, people, centre, signing, settings):
    original = issue(people, draft(people["operator"], centre))
    update = follow(people, original, "Update", headline="Crue de l'Ouche : décrue amorcée",
                    severity="Moderate")
    cancel = follow(people, original, "Cancel")

    roots = {m.msg_type: published(client, m, signing) for m in (original, update, cancel)}

    alert_root, update_root, cancel_root = roots["Alert"], roots["Update"], roots["Cancel"]
    sent = {m.identifier: text(roots[m.msg_type], "cap:sent") for m in (original, update)}
    # The references chain: every earlier message, the original Alert included, each as
    # sender,identifier,sent exactly as that message was published.
    assert text(alert_root, "cap:references") is None
    assert references(update_root) == [
        (settings.CAP_SENDER, original.identifier, sent[original.identifier])]
    assert references(cancel_root) == [
        (settings.CAP_SENDER, original.identifier, sent[original.identifier]),
        (settings.CAP_SENDER, update.identifier, sent[update.identifier])]
    # Every message: the city's page for it and the public contact.
    for message in (original, update, cancel):
        root = roots[message.msg_type]
        web = text(root, "cap:info/cap:web")
        assert web == f"{settings.PUBLIC_BASE_URL}/alertes/{message.identifier}/"
        assert text(root, "cap:info/cap:contact") == settings.CAP_CONTACT
        page = client.get(web.removeprefix(settings.PUBLIC_BASE_URL))
        assert page.status_code == 200
        body = page.content.decode()
        assert message.headline.replace("'", "&#x27;") in body
        main = body.split("<main", 1)[1]
        for person in (people["operator"], people["supervisor"]):  # nothing about who wrote it
            assert not re.search(rf"\b{re.escape(person.username)}\b", main)
            assert not person.email or person.email not in main
    assert text(alert_root, "cap:info/cap:responseType") == "Shelter"  # the siren's signal
    # The Cancel says the danger is over.
    info = cancel_root.find("cap:info", NS)
    assert text(info, "cap:responseType") == "AllClear"
    assert text(info, "cap:urgency") == "Past"
    assert text(info, "cap:severity") in ("Minor", "Unknown")
    assert text(info, "cap:certainty") in ("Observed", "Unknown")
    assert "activités normales" in text(info, "cap:instruction")
    assert text(info, "cap:instruction") != original.instruction


def test_a_cancel_skips_updates_that_expired_but_keeps_the_alert(client, people, centre):
    original = issue(people, draft(people["operator"], centre))
    update = follow(people, original, "Update", expires=timezone.now() + timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        cancel = follow(people, original, "Cancel")
        root = published(client, cancel, None)

    assert [identifier for _, identifier, _ in references(root)] == [original.identifier]
    assert cancel.expires == original.expires and update.identifier not in str(references(root))


def test_a_test_message_goes_through_the_chain_but_no_panel_no_siren(client, people, centre,
                                                                       signing, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    AlertRecipient.objects.create(name="Préfecture", email="cod@prefecture.example")
    real = issue(people, draft(people["operator"], centre))
    commands = Command.objects.count()

    call_command("cap_test_message", stdout=open("/dev/null", "w"))
    test = PopulationAlert.objects.get(cap_status="Test")
    cancel = follow(people, test, "Cancel")

    assert Command.objects.count() == commands  # neither the test nor its Cancel commanded
    for message in (test, cancel):
        root = published(client, message, signing)
        assert text(root, "cap:status") == "Test" and text(root, "cap:note")
    assert text(published(client, test, signing), "cap:info/cap:responseType") == "None"
    public = etree.fromstring(client.get("/cap/flux.atom").content)
    assert [e.findtext("a:id", namespaces=NS).rsplit(":", 1)[1]
            for e in public.findall("a:entry", NS)] == [real.identifier]
    tests = etree.fromstring(client.get("/cap/flux-test.atom").content)
    assert {e.findtext("a:id", namespaces=NS).rsplit(":", 1)[1]
            for e in tests.findall("a:entry", NS)} == {test.identifier, cancel.identifier}
    assert population.population_alert_notify(alert_id=test.pk)["email"] == 1
    assert mail.outbox[-1].subject.startswith("[TEST]")
    page = client.get(f"/alertes/{test.identifier}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Message de test" in page.content.decode()
    # Nor do crisis reports count it among the alerts to the population.
    issued = devices_selectors.population_alerts_issued(
        incidents=[], since=timezone.now() - timedelta(hours=1), until=timezone.now())
    assert list(issued) == [real]


def test_utc_is_written_minus_zero(client, people, centre, settings):
    settings.TIME_ZONE = "UTC"
    alert = issue(people, draft(people["operator"], centre))

    root = published(client, alert, None)

    assert text(root, "cap:sent").endswith("-00:00")
    assert text(root, "cap:info/cap:expires").endswith("-00:00")


def test_an_ec_key_signs_too_and_a_wrong_certificate_does_not_verify(client, people, centre,
                                                                     settings, tmp_path):
    key, cert = throwaway_identity("ec")
    _, other = throwaway_identity()
    (tmp_path / "k.pem").write_bytes(key)
    (tmp_path / "c.pem").write_bytes(cert)
    settings.CAP_SIGNING_KEY_FILE, settings.CAP_SIGNING_CERT_FILE = (
        str(tmp_path / "k.pem"), str(tmp_path / "c.pem"))
    alert = issue(people, draft(people["operator"], centre))

    published(client, alert, cert)
    with pytest.raises(cap.CapError):
        cap.verify(client.get(f"/cap/{alert.identifier}.xml").content, cert=other)


def test_a_key_that_does_not_match_its_certificate_stops_the_issue(people, centre, settings,
                                                                    tmp_path):
    key, _ = throwaway_identity()
    _, cert = throwaway_identity()
    (tmp_path / "k.pem").write_bytes(key)
    (tmp_path / "c.pem").write_bytes(cert)
    settings.CAP_SIGNING_KEY_FILE, settings.CAP_SIGNING_CERT_FILE = (
        str(tmp_path / "k.pem"), str(tmp_path / "c.pem"))
    alert = draft(people["operator"], centre)

    with pytest.raises(ValidationError, match="certificat"):
        issue(people, alert)

    alert.refresh_from_db()
    assert alert.status == "draft" and not Command.objects.exists()
