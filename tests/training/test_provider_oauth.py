"""Issue 19 item 1: OAuth2 client credentials as the provider API's second way in (training.provider_api,
training.providers.provider_oauth_client_issue)."""

import datetime as dt
import logging
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from bureau.models import AuditEntry
from credits.models import LedgerEntry
from tests.factories import TeacherFactory
from training.models import Project, Provider
from training.providers import provider_key_issue, provider_oauth_client_issue, provider_oauth_client_revoke

from . import provider_fixtures
from .provider_fixtures import PROJECT, URL, XAPI, record

TOKEN = "/o/token/"


def make_provider(name, code):
    project = Project.objects.create(code=code, name=f"{name}的课程", organiser=name, **PROJECT)
    provider = Provider.objects.create(name=name)
    provider.projects.set([project])
    client_id, secret = provider_oauth_client_issue(provider=provider, actor=None)
    return provider, project, client_id, secret


@pytest.fixture
def two(db):
    return make_provider("甲网络学院", "A1"), make_provider("乙网络学院", "B1")


def get_token(client, client_id, secret, **extra):
    body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **extra}
    return client.post(TOKEN, urlencode(body), content_type="application/x-www-form-urlencoded")


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post(client, token, records, url=URL):
    return provider_fixtures.post(client, token, records, url, scheme="Bearer")


def test_token_from_the_client_secret_posts_records(client, two):
    (prov, project, client_id, secret), _ = two
    answer = get_token(client, client_id, secret)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "records" and body["expires_in"] == 3600
    assert "refresh_token" not in body
    assert answer["Cache-Control"].startswith("no-store") or "no-store" in answer["Cache-Control"]
    teacher = TeacherFactory()
    posted = post(client, body["access_token"], [record(1, teacher, project)])
    assert posted.status_code == 200, posted.content
    assert posted.json()["counts"] == {"created": 1}
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 1
    audited = AuditEntry.objects.filter(object_type="training.provider", object_id=str(prov.pk))
    assert {"training.provider.oauth_client_issued", "training.provider.token_issued",
            "training.provider.records_posted"} <= set(audited.values_list("action", flat=True))
    # neither the secret nor the token is kept or audited in the clear
    assert secret not in str(list(Application.objects.values_list()))
    assert body["access_token"] not in str(list(AccessToken.objects.values_list()))
    assert not any(body["access_token"] in str(d) or secret in str(d) for d in audited.values_list("data", flat=True))


def test_http_basic_client_authentication_also_works(client, two):
    (_, _, client_id, secret), _ = two
    import base64

    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    answer = client.post(TOKEN, urlencode({"grant_type": "client_credentials"}),
                         content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert answer.status_code == 200 and answer.json()["access_token"]


def test_the_xapi_endpoint_takes_the_token_too(client, two):
    (_, project, client_id, secret), _ = two
    token = get_token(client, client_id, secret).json()["access_token"]
    teacher = TeacherFactory()
    statement = {"id": "S1", "actor": {"account": {"name": teacher.staff_no}},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                 "object": {"id": f"https://example.org/course/{project.code}"}, "result": {"success": True},
                 "timestamp": "2026-06-30T10:00:00+08:00"}
    answer = client.post(XAPI, statement, content_type="application/json", **bearer(token))
    assert answer.status_code == 200, answer.content
    assert answer.json()["counts"] == {"created": 1}


@pytest.mark.parametrize("wrong", ["secret", "client", "grant"])
def test_wrong_credentials_get_no_token(client, two, wrong):
    (_, _, client_id, secret), (_, _, other_id, _) = two
    if wrong == "secret":
        answer = get_token(client, client_id, secret[:-1] + ("x" if secret[-1] != "x" else "y"))
    elif wrong == "client":
        answer = get_token(client, other_id, secret)  # B's client id with A's secret
    else:
        answer = get_token(client, client_id, secret, grant_type="password", username="x", password="y")
    assert answer.status_code in (400, 401)
    assert "access_token" not in answer.json()
    assert AccessToken.objects.count() == 0


def test_a_token_of_provider_a_cannot_post_to_provider_b(client, two):
    (prov_a, project_a, client_a, secret_a), (_, project_b, _, _) = two
    token = get_token(client, client_a, secret_a).json()["access_token"]
    teacher = TeacherFactory()
    answer = post(client, token, [record(1, teacher, project_b), record(2, teacher, project_a)]).json()
    assert [o["outcome"] for o in answer["outcomes"]] == ["refused", "created"]
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 1
    assert not LedgerEntry.objects.filter(project_code=project_b.code).exists()


def test_an_expired_token_is_refused(client, two):
    (_, project, client_id, secret), _ = two
    token = get_token(client, client_id, secret).json()["access_token"]
    AccessToken.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    answer = post(client, token, [record(1, TeacherFactory(), project)])
    assert answer.status_code == 401
    assert "令牌" in answer.json()["detail"]
    assert answer["WWW-Authenticate"].startswith("Api-Key")


def test_a_token_revoked_by_the_provider_is_refused(client, two):
    (_, project, client_id, secret), _ = two
    token = get_token(client, client_id, secret).json()["access_token"]
    assert post(client, token, [record(1, TeacherFactory(), project)]).status_code == 200
    revoked = client.post("/o/revoke_token/", urlencode({"token": token, "client_id": client_id, "client_secret": secret}),
                          content_type="application/x-www-form-urlencoded")
    assert revoked.status_code == 200
    assert post(client, token, [record(2, TeacherFactory(), project)]).status_code == 401


def test_revoking_or_reissuing_the_client_ends_its_tokens(client, two):
    (prov_a, project_a, client_a, secret_a), (prov_b, project_b, client_b, secret_b) = two
    token_a = get_token(client, client_a, secret_a).json()["access_token"]
    token_b = get_token(client, client_b, secret_b).json()["access_token"]
    assert provider_oauth_client_revoke(provider=prov_a, actor=None) == 1
    assert provider_oauth_client_revoke(provider=prov_a, actor=None) == 0
    assert post(client, token_a, [record(1, TeacherFactory(), project_a)]).status_code == 401
    assert get_token(client, client_a, secret_a).status_code == 401
    new_id, new_secret = provider_oauth_client_issue(provider=prov_b, actor=None)
    assert post(client, token_b, [record(2, TeacherFactory(), project_b)]).status_code == 401
    assert get_token(client, client_b, secret_b).status_code == 401
    fresh = get_token(client, new_id, new_secret).json()["access_token"]
    assert post(client, fresh, [record(3, TeacherFactory(), project_b)]).status_code == 200


def test_a_token_of_a_client_linked_to_no_provider_is_refused(client, two):
    application = Application.objects.create(
        name="别的客户端", client_type=Application.CLIENT_CONFIDENTIAL, client_secret="s" * 40,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS)
    token = get_token(client, application.client_id, "s" * 40).json()["access_token"]
    (_, project, _, _), _ = two
    assert post(client, token, [record(1, TeacherFactory(), project)]).status_code == 401


def test_a_token_without_the_records_scope_is_refused(client, two):
    (prov, project, _, _), _ = two
    AccessToken.objects.create(application=prov.oauth_application, token="handmade-token-1234567890", scope="read",
                               expires=timezone.now() + dt.timedelta(hours=1))
    assert post(client, "handmade-token-1234567890", [record(1, TeacherFactory(), project)]).status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer nonsense"])
def test_malformed_or_unknown_bearer_is_refused(client, two, header):
    (_, project, _, _), _ = two
    answer = client.post(URL, {"records": []}, content_type="application/json", HTTP_AUTHORIZATION=header)
    assert answer.status_code == 401


def test_an_inactive_provider_with_a_valid_token_is_refused(client, two):
    (prov, project, client_id, secret), _ = two
    token = get_token(client, client_id, secret).json()["access_token"]
    Provider.objects.filter(pk=prov.pk).update(active=False)
    assert post(client, token, [record(1, TeacherFactory(), project)]).status_code == 403


def test_the_rate_limit_is_the_providers_whichever_way_in(client, two, monkeypatch):
    from training import provider_api

    monkeypatch.setattr(provider_api, "RATE", "2/m")
    (prov, project, client_id, secret), _ = two
    key = provider_key_issue(provider=prov, actor=None)
    token = get_token(client, client_id, secret).json()["access_token"]
    teacher = TeacherFactory()
    codes = [client.post(URL, {"records": [record(1, teacher, project)]}, content_type="application/json",
                         HTTP_AUTHORIZATION=f"Api-Key {key}").status_code,
             post(client, token, [record(1, teacher, project)]).status_code,
             post(client, token, [record(1, teacher, project)]).status_code]
    assert codes == [200, 200, 429]


def test_the_token_endpoint_is_rate_limited(client, two, monkeypatch):
    from training import provider_api

    monkeypatch.setattr(provider_api, "TOKEN_RATE", "2/m")
    (_, _, client_id, secret), _ = two
    codes = [get_token(client, client_id, "wrong").status_code for _ in range(2)]
    third = get_token(client, client_id, secret)
    assert codes == [401, 401] and third.status_code == 429
    assert third.json()["error"] == "slow_down"


def test_no_other_oauth_flow_is_routed(client, two):
    assert client.get("/o/authorize/").status_code == 404
    assert client.get("/o/applications/").status_code == 404
    assert client.get(TOKEN).status_code == 405


def test_tokens_and_secrets_are_never_logged(client, two, caplog):
    caplog.set_level(logging.DEBUG)
    (_, project, client_id, secret), _ = two
    token = get_token(client, client_id, secret).json()["access_token"]
    post(client, token, [record(1, TeacherFactory(), project)])
    get_token(client, client_id, "wrong-secret")
    post(client, "x" + token, [record(2, TeacherFactory(), project)])
    assert token not in caplog.text and secret not in caplog.text
    assert "invalid, expired or revoked access token refused" in caplog.text


def test_schema_documents_both_schemes(client, users):
    client.force_login(users["bureau"])
    schema = client.get("/api/schema/?format=json").json()
    for path in (URL, XAPI):
        assert schema["paths"][path]["post"]["security"] == [{"providerApiKey": []}, {"providerOAuth2": ["records"]}]
    scheme = schema["components"]["securitySchemes"]["providerOAuth2"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["clientCredentials"] == {"tokenUrl": "/o/token/", "scopes": {"records": "推送考核结果"}}


def test_command_prints_the_secret_once(two, capsys, client):
    (prov, project, old_id, old_secret), _ = two
    call_command("provider_oauth_client", "--provider", prov.name)
    lines = capsys.readouterr().out.splitlines()
    client_id = next(line.split(": ", 1)[1] for line in lines if line.startswith("client_id: "))
    secret = next(line.split(": ", 1)[1] for line in lines if line.startswith("client_secret: "))
    assert client_id != old_id and secret != old_secret
    assert get_token(client, old_id, old_secret).status_code == 401
    assert get_token(client, client_id, secret).status_code == 200
    assert secret not in str(list(Application.objects.values_list()))
    call_command("provider_oauth_client", "--provider", str(prov.pk), "--revoke")
    assert "已吊销" in capsys.readouterr().out
    prov.refresh_from_db()
    assert prov.oauth_application is None and not Application.objects.filter(client_id=client_id).exists()


def test_admin_issue_and_revoke_by_bureau_staff(client, two, users):
    (prov, _, old_id, _), _ = two
    client.force_login(users["bureau"])
    changelist = reverse("admin:training_provider_changelist")
    page = client.post(changelist, {"action": "issue_oauth_client", "_selected_action": [prov.pk]}, follow=True)
    prov.refresh_from_db()
    text = page.content.decode()
    new_id = prov.oauth_application.client_id
    assert new_id != old_id and f"client_id={new_id}" in text and "client_secret=" in text
    secret = text.split("client_secret=", 1)[1].split()[0].split("<")[0]
    assert get_token(client, new_id, secret).status_code == 200
    # shown once: the change page names the client, never the secret
    change = client.get(reverse("admin:training_provider_change", args=[prov.pk])).content.decode()
    assert new_id in change and secret not in change
    client.post(changelist, {"action": "revoke_oauth_client", "_selected_action": [prov.pk]}, follow=True)
    prov.refresh_from_db()
    assert prov.oauth_application is None


@pytest.mark.parametrize("role,status", [("district", 403), ("principal", 403), ("auditor", 200), ("teacher", 302)])
def test_other_roles_cannot_issue_a_client(client, two, users, role, status):
    (prov, _, old_id, _), _ = two
    client.force_login(users[role])
    answer = client.post(reverse("admin:training_provider_changelist"),
                         {"action": "issue_oauth_client", "_selected_action": [prov.pk]})
    assert answer.status_code == status
    prov.refresh_from_db()
    assert prov.oauth_application.client_id == old_id


def test_the_token_endpoint_needs_no_csrf_token(two):
    from django.test import Client

    (_, project, client_id, secret), _ = two
    strict = Client(enforce_csrf_checks=True)
    token = get_token(strict, client_id, secret).json()["access_token"]
    assert post(strict, token, [record(1, TeacherFactory(), project)]).status_code == 200
