"""Sign-in through the bureau's identity provider (issue 19 item 3, bureau/sso.py) against real test providers
(tests/idp: an OIDC provider and a CAS server served over HTTP on a free port), not mocks."""

from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from bureau.choices import Role, Status
from bureau.models import AuditEntry
from bureau.scoping import role_of
from tests.factories import TeacherFactory
from tests.idp.fixtures import cas_server, oidc_provider  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def _follow_provider(client, start: str):
    """Start sign-in at `start`, let the provider (over HTTP) approve, come back: the final response."""
    response = client.get(start)
    assert response.status_code == 302, response
    at_provider = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def _signed_in(client):
    return client.session.get("_auth_user_id")


# --- OIDC ----------------------------------------------------------------------------------------------------


def test_oidc_teacher_by_staff_no_lands_on_portal(client, users, city, oidc_provider):
    oidc_provider.user = "T1"  # the teacher's 工号; their account's username is "teacher"
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(_signed_in(client)) == users["teacher"].pk
    assert client.get("/", follow=True).redirect_chain[-1][0].endswith("/portal/")


def test_oidc_staff_identity_maps_to_existing_staff_user_with_role(client, users, oidc_provider):
    oidc_provider.user = "bureau"
    before = User.objects.count()
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(_signed_in(client)) == users["bureau"].pk
    assert User.objects.count() == before
    user = User.objects.select_related("profile").get(pk=users["bureau"].pk)
    assert role_of(user) == Role.BUREAU


def test_oidc_unknown_identity_refused_and_no_user_made(client, users, oidc_provider):
    oidc_provider.user = "nobody-42"
    before = User.objects.count()
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?sso=refused"
    assert _signed_in(client) is None
    assert User.objects.count() == before
    page = client.get(response["Location"])
    assert "该身份在本平台没有对应的账号" in page.content.decode()


def test_oidc_teacher_without_account_gets_teacher_role_only(client, users, city, oidc_provider):
    oidc_provider.user = "T2"  # a teacher with no account yet
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(pk=_signed_in(client))
    assert user.username == "T2" and not user.has_usable_password() and not user.is_staff
    assert role_of(user) == Role.TEACHER and user.teacher == city["teachers"][1]
    assert AuditEntry.objects.filter(action="bureau.role.assigned").count() >= 1


def test_oidc_teacher_not_serving_without_account_refused(client, users, city, oidc_provider):
    teacher = city["teachers"][1]
    type(teacher).objects.filter(pk=teacher.pk).update(status=Status.RETIRED)
    oidc_provider.user = "T2"
    before = User.objects.count()
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response["Location"] == "/accounts/login/?sso=refused" and User.objects.count() == before


def test_oidc_staff_no_taken_by_another_username_is_refused(client, users, oidc_provider):
    TeacherFactory(staff_no="bureau", name="重名", school=users["principal"].profile.school)
    oidc_provider.user = "bureau"  # an unlinked teacher's 工号 that is also a staff username: neither signs in
    before = User.objects.count()
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response["Location"] == "/accounts/login/?sso=refused" and _signed_in(client) is None
    assert User.objects.count() == before


def test_oidc_inactive_user_refused(client, users, oidc_provider):
    User.objects.filter(pk=users["bureau"].pk).update(is_active=False)
    oidc_provider.user = "bureau"
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response["Location"] == "/accounts/login/?sso=refused" and _signed_in(client) is None


def test_oidc_off_by_default(client, db):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/cas/login/").status_code == 404
    page = client.get("/accounts/login/").content.decode()
    assert "使用统一身份认证登录" not in page


def test_login_page_shows_buttons(client, db, oidc_provider, cas_server):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/oidc/authenticate/">使用统一身份认证登录<' in page and 'href="/cas/login/"' in page


# --- CAS -----------------------------------------------------------------------------------------------------


def test_cas_teacher_signs_in(client, users, cas_server):
    cas_server.user = "T1"
    response = _follow_provider(client, "/cas/login/")
    assert response.status_code == 302
    assert int(_signed_in(client)) == users["teacher"].pk


def test_cas_username_attribute(client, users, cas_server, settings):
    settings.CAS_USERNAME_ATTRIBUTE = "staffNo"
    cas_server.user = "auditor"
    _follow_provider(client, "/cas/login/")
    assert int(_signed_in(client)) == users["auditor"].pk


def test_cas_unknown_identity_refused_and_no_user_made(client, users, cas_server):
    cas_server.user = "stranger"
    before = User.objects.count()
    response = _follow_provider(client, "/cas/login/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?sso=refused"
    assert _signed_in(client) is None and User.objects.count() == before


# --- Local passwords -----------------------------------------------------------------------------------------


@pytest.fixture
def passwords(users):
    for user in (users["bureau"], users["superuser"]):
        user.set_password("pw-Долг-2026")
        user.save()
    return "pw-Долг-2026"


def test_password_login_works_by_default(client, users, passwords):
    response = client.post("/accounts/login/", {"username": "bureau", "password": passwords})
    assert response.status_code == 302 and int(_signed_in(client)) == users["bureau"].pk


def test_local_login_disabled_refuses_non_superusers(client, users, passwords, settings):
    settings.LOCAL_LOGIN_ENABLED = False
    response = client.post("/accounts/login/", {"username": "bureau", "password": passwords})
    assert response.status_code == 200 and _signed_in(client) is None
    assert "本平台已关闭密码登录" in response.content.decode()
    response = client.post("/accounts/login/", {"username": "root", "password": passwords})
    assert response.status_code == 302 and int(_signed_in(client)) == users["superuser"].pk


def test_local_login_disabled_refusals_count_towards_lockout(client, users, passwords, settings):
    settings.LOCAL_LOGIN_ENABLED = False
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/accounts/login/", {"username": "bureau", "password": passwords})
    settings.LOCAL_LOGIN_ENABLED = True
    response = client.post("/accounts/login/", {"username": "bureau", "password": passwords})
    assert _signed_in(client) is None and response.status_code in (403, 429)


def test_refused_identities_do_not_lock_out_the_address(client, users, oidc_provider, settings):
    """A school's pupils and teachers share one address: refused identities must not lock SSO out for it."""
    settings.AXES_FAILURE_LIMIT = 2
    oidc_provider.user = "nobody"
    for _ in range(3):
        _follow_provider(client, "/oidc/authenticate/")
    oidc_provider.user = "T1"
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response.status_code == 302 and int(_signed_in(client)) == users["teacher"].pk


def test_oidc_missing_username_claim_refused_on_login_page(client, users, oidc_provider, settings):
    settings.OIDC_USERNAME_CLAIM = "employee_number"  # the provider does not send it
    oidc_provider.user = "T1"
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response["Location"] == "/accounts/login/?sso=refused" and _signed_in(client) is None


def test_login_page_queries(client, db, oidc_provider, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert client.get("/accounts/login/").status_code == 200
