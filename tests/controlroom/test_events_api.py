import pytest

from controlroom import journal


@pytest.mark.django_db
def test_it_pages_through_events_after_a_sequence_number(api, people):
    start = journal.head_seq()
    seqs = [journal.record(type="test.happened", payload={"i": i}).seq for i in range(5)]
    client = api(people["operator"])
    page = client.get(f"/api/events/?after={start}&limit=2").json()
    assert [e["seq"] for e in page["results"]] == seqs[:2]
    assert page["latest_seq"] == seqs[-1]
    page = client.get(page["next"]).json()
    assert [e["seq"] for e in page["results"]] == seqs[2:4]
    page = client.get(page["next"]).json()
    assert [e["seq"] for e in page["results"]] == seqs[4:] and page["next"] is None


@pytest.mark.django_db
def test_a_liaison_sees_only_their_agencys_events(api, people, agencies):
    start = journal.head_seq()
    journal.record(type="test.internal")
    shared = journal.record(type="test.shared", agencies=[agencies["pn"]])
    journal.record(type="test.other", agencies=[agencies["sdis"]])
    page = api(people["liaison_pn"]).get(f"/api/events/?after={start}").json()
    assert [e["seq"] for e in page["results"]] == [shared.seq]


@pytest.mark.django_db
def test_anonymous_users_are_refused(client):
    response = client.get("/api/events/")
    assert response.status_code == 403
    assert "detail" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["after=-1", "after=abc", "limit=0", "limit=5000"])
def test_bad_parameters_get_a_clear_json_error(api, people, query):
    response = api(people["operator"]).get(f"/api/events/?{query}")
    assert response.status_code == 400
    body = response.json()
    field = query.split("=")[0]
    assert field in body["fields"] and body["detail"].startswith(field)


@pytest.mark.django_db
def test_the_schema_documents_the_events_endpoint(api, people):
    response = api(people["operator"]).get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/events/" in response.json()["paths"]


@pytest.mark.django_db
def test_a_gap_fill_leaves_the_session_unwritten_where_a_page_renews_it(api, people):
    """A thousand consoles filling a gap at once must not write a thousand sessions."""
    from django.contrib.sessions.models import Session

    client = api(people["operator"])
    key = client.session.session_key

    def expiry():
        return Session.objects.get(session_key=key).expire_date

    before = expiry()
    response = client.get("/api/events/?after=0")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies and expiry() == before
    assert "Cookie" in response["Vary"]

    client.get("/")  # a person's page renews the session, as every request did before
    assert expiry() > before
