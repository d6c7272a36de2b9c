"""Sign-in through the bureau's identity provider (issue 19 item 3, bureau/sso.py) against real test providers
(tests/idp: an OIDC provider and a CAS server served over HTTP on a free port), not mocks."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from django_cas_ng.models import SessionTicket

from bureau.choices import Role, Status
from bureau.models import AuditEntry
from bureau.scoping import role_of
from bureau.services import user_link_identity
from tests.factories import TeacherFactory
from tests.idp.cas import logout_request
from tests.idp.fixtures import cas_server, oidc_provider  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def _follow_provider(client, start: str, browser=requests):
    """Start sign-in at `start`, let the provider (over HTTP; `browser` a requests.Session to keep its
    cookies) approve, come back: the final response."""
    response = client.get(start)
    assert response.status_code == 302, response
    at_provider = browser.get(response["Location"], allow_redirects=False, timeout=5)
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


def _link(user, issuer: str, subject: str) -> None:
    """What bureau staff do in the admin (ProfileAdmin): link the account to the provider's identity."""
    user_link_identity(user=user, issuer=issuer, subject=subject, actor=user)


def test_oidc_staff_identity_maps_to_existing_staff_user_with_role(client, users, oidc_provider):
    _link(users["bureau"], oidc_provider.issuer, "sub-ops-7")  # the id_token's sub for the identity "ops-7"
    oidc_provider.user = "ops-7"
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
    _link(users["bureau"], oidc_provider.issuer, "sub-ops-7")
    User.objects.filter(pk=users["bureau"].pk).update(is_active=False)
    oidc_provider.user = "ops-7"
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
    _link(users["auditor"], settings.CAS_SERVER_URL, "A-77")
    cas_server.user = "A-77"
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


# --- PKCE (OIDC) ---------------------------------------------------------------------------------------------


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_oidc_authorization_request_carries_s256_challenge(client, users, oidc_provider):
    params = _query(client.get("/oidc/authenticate/")["Location"])
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    states = client.session["oidc_states"]
    assert len(states[params["state"]]["code_verifier"]) >= 43  # kept in the session, never sent to the browser


def test_oidc_token_request_without_the_right_verifier_fails(client, users, oidc_provider):
    """The provider checks the verifier: a code taken on its way back is useless without the session's."""
    oidc_provider.user = "T1"
    response = client.get("/oidc/authenticate/")
    params = _query(response["Location"])
    code = _query(requests.get(response["Location"], allow_redirects=False, timeout=5).headers["Location"])["code"]
    form = {"client_id": oidc_provider.client_id, "client_secret": oidc_provider.client_secret, "code": code,
            "grant_type": "authorization_code", "redirect_uri": params["redirect_uri"]}
    wrong = requests.post(f"{oidc_provider.issuer}/token", data={**form, "code_verifier": "x" * 64}, timeout=5)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert oidc_provider.token_errors == ["code_verifier"]
    # the code is spent by the failed try: not even the right verifier redeems it now
    right = client.session["oidc_states"][params["state"]]["code_verifier"]
    again = requests.post(f"{oidc_provider.issuer}/token", data={**form, "code_verifier": right}, timeout=5)
    assert again.status_code == 400


def test_oidc_token_request_with_no_verifier_fails(client, users, oidc_provider):
    oidc_provider.user = "T1"
    response = client.get("/oidc/authenticate/")
    redirect_uri = _query(response["Location"])["redirect_uri"]
    code = _query(requests.get(response["Location"], allow_redirects=False, timeout=5).headers["Location"])["code"]
    answer = requests.post(f"{oidc_provider.issuer}/token", timeout=5, data={
        "client_id": oidc_provider.client_id, "client_secret": oidc_provider.client_secret, "code": code,
        "grant_type": "authorization_code", "redirect_uri": redirect_uri})
    assert answer.status_code == 400 and oidc_provider.token_errors == ["code_verifier"]


def test_oidc_sign_in_with_a_tampered_verifier_is_refused(client, users, oidc_provider):
    """End to end through our callback: a session whose verifier does not match signs nobody in."""
    oidc_provider.user = "T1"
    response = client.get("/oidc/authenticate/")
    state = _query(response["Location"])["state"]
    session = client.session
    session["oidc_states"][state]["code_verifier"] = "y" * 64
    session.save()
    back = urlsplit(requests.get(response["Location"], allow_redirects=False, timeout=5).headers["Location"])
    response = client.get(f"{back.path}?{back.query}")
    assert response["Location"] == "/accounts/login/?sso=failed" and _signed_in(client) is None
    assert oidc_provider.token_errors == ["code_verifier"]
    page = client.get(response["Location"]).content.decode()
    assert "统一身份认证未能完成" in page and "没有对应的账号" not in page


def test_cas_server_out_of_reach_while_validating(client, users, cas_server, settings):
    cas_server.user = "T1"
    response = client.get("/cas/login/")
    ticket_url = requests.get(response["Location"], allow_redirects=False, timeout=5).headers["Location"]
    settings.CAS_SERVER_URL = "http://127.0.0.1:9/cas/"  # nothing listens there
    back = urlsplit(ticket_url)
    response = client.get(f"{back.path}?{back.query}")
    assert response["Location"] == "/accounts/login/?sso=failed" and _signed_in(client) is None


def test_oidc_pkce_can_be_switched_off(client, users, oidc_provider, settings):
    settings.OIDC_USE_PKCE = False
    params = _query(client.get("/oidc/authenticate/")["Location"])
    assert "code_challenge" not in params
    oidc_provider.require_pkce = False  # a provider that does not ask for it
    oidc_provider.user = "T1"
    assert _follow_provider(client, "/oidc/authenticate/")["Location"] == "/"
    assert int(_signed_in(client)) == users["teacher"].pk


# --- Single sign-out -----------------------------------------------------------------------------------------


def test_oidc_sign_out_ends_the_provider_session(client, users, oidc_provider):
    oidc_provider.user = "T1"
    _follow_provider(client, "/oidc/authenticate/")
    assert len(oidc_provider.sessions) == 1
    response = client.post("/accounts/logout/")
    assert _signed_in(client) is None
    location = response["Location"]
    assert response.status_code == 302 and location.startswith(f"{oidc_provider.issuer}/logout?")
    params = _query(location)
    assert params["post_logout_redirect_uri"] == "http://testserver/accounts/login/"
    assert params["client_id"] == oidc_provider.client_id and params["id_token_hint"].count(".") == 2
    at_provider = requests.get(location, allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302 and at_provider.headers["Location"] == "http://testserver/accounts/login/"
    assert oidc_provider.sessions == {} and len(oidc_provider.ended) == 1


def test_oidc_sign_out_without_end_session_endpoint_stays_local(client, users, oidc_provider, settings):
    settings.OIDC_OP_LOGOUT_ENDPOINT = ""
    oidc_provider.user = "T1"
    _follow_provider(client, "/oidc/authenticate/")
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/" and _signed_in(client) is None
    assert len(oidc_provider.sessions) == 1


def test_provider_refuses_a_forged_id_token_hint(client, users, oidc_provider):
    oidc_provider.user = "T1"
    _follow_provider(client, "/oidc/authenticate/")
    location = client.post("/accounts/logout/")["Location"]
    params = _query(location)
    forged = params["id_token_hint"][:-4] + ("AAAA" if not params["id_token_hint"].endswith("AAAA") else "BBBB")
    answer = requests.get(f"{oidc_provider.issuer}/logout", params={**params, "id_token_hint": forged}, timeout=5)
    assert answer.status_code == 400 and len(oidc_provider.sessions) == 1


def test_password_session_sign_out_stays_local(client, users, oidc_provider, cas_server, passwords):
    assert client.post("/accounts/login/", {"username": "bureau", "password": passwords}).status_code == 302
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/" and _signed_in(client) is None


def test_sign_out_needs_the_form(client, users, oidc_provider):
    """GET asks for confirmation (a link or an image cannot sign anybody out of the provider)."""
    oidc_provider.user = "T1"
    _follow_provider(client, "/oidc/authenticate/")
    assert client.get("/accounts/logout/").status_code == 200
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    assert csrf_client.post("/accounts/logout/").status_code == 403
    assert _signed_in(client) is not None and len(oidc_provider.sessions) == 1


def test_sso_session_after_provider_switched_off_signs_out_locally(client, users, oidc_provider, settings):
    oidc_provider.user = "T1"
    _follow_provider(client, "/oidc/authenticate/")
    settings.OIDC_ENABLED = False
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/" and _signed_in(client) is None


def test_cas_sign_out_ends_the_cas_session(client, users, cas_server, settings):
    cas_server.user = "T1"
    browser = requests.Session()
    _follow_provider(client, "/cas/login/", browser)
    assert len(cas_server.sessions) == 1 and SessionTicket.objects.count() == 1
    response = client.post("/accounts/logout/")
    assert _signed_in(client) is None and SessionTicket.objects.count() == 0
    assert response.status_code == 302
    assert response["Location"] == (settings.CAS_SERVER_URL + "logout?service="
                                    "http%3A%2F%2Ftestserver%2Faccounts%2Flogin%2F")
    at_cas = browser.get(response["Location"], allow_redirects=False, timeout=5)
    assert at_cas.headers["Location"] == "http://testserver/accounts/login/"
    assert cas_server.sessions == {} and len(cas_server.ended) == 1


def test_cas_single_logout_request_ends_our_session(client, users, cas_server):
    cas_server.user = "T1"
    _follow_provider(client, "/cas/login/")
    assert _signed_in(client) is not None
    ticket = SessionTicket.objects.get().ticket
    other = Client(enforce_csrf_checks=True)  # the CAS server's back channel: no cookie, no CSRF token
    answer = other.post("/cas/login/", {"logoutRequest": logout_request(ticket)})
    assert answer.status_code == 302
    assert SessionTicket.objects.count() == 0
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")


def test_cas_single_logout_of_another_ticket_leaves_the_session(client, users, cas_server):
    cas_server.user = "T1"
    _follow_provider(client, "/cas/login/")
    Client().post("/cas/login/", {"logoutRequest": logout_request("ST-not-ours")})
    assert SessionTicket.objects.count() == 1
    assert client.get("/portal/").status_code == 200


def test_cas_single_logout_refused_when_cas_off(client, users, settings):
    settings.CAS_ENABLED = False
    assert Client().post("/cas/login/", {"logoutRequest": logout_request("ST-1")}).status_code == 404


# --- ?next= after sign-in: pages of this site only (review defect 1) -----------------------------------------

FOREIGN_NEXT = ["https://evil.example/phish", "//evil.example/phish", "/\\evil.example/phish",
                "http://evil.example", "https:evil.example", "javascript:alert(1)"]


def _with_next(path: str, url: str) -> str:
    return f"{path}?{urlencode({'next': url})}"


@pytest.mark.parametrize("url", FOREIGN_NEXT)
def test_cas_sign_in_never_goes_to_another_site(client, users, cas_server, url):
    cas_server.user = "T1"
    response = _follow_provider(client, _with_next("/cas/login/", url))
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(_signed_in(client)) == users["teacher"].pk
    # already signed in: straight back, still not to the other site
    again = client.get(_with_next("/cas/login/", url))
    assert again.status_code == 302 and again["Location"] == "/"


def test_cas_service_url_carries_only_a_safe_next(client, users, cas_server):
    location = client.get(_with_next("/cas/login/", "https://evil.example/phish"))["Location"]
    assert "evil.example" not in location
    assert _query(_query(location)["service"])["next"] == "/"


def test_cas_sign_in_keeps_a_page_of_this_site(client, users, cas_server):
    cas_server.user = "T1"
    response = _follow_provider(client, _with_next("/cas/login/", "/portal/?tab=1"))
    assert response["Location"] == "/portal/?tab=1"
    assert client.get(_with_next("/cas/login/", "/portal/"))["Location"] == "/portal/"


def test_cas_referer_of_another_site_is_not_followed(client, users, cas_server, settings):
    settings.CAS_IGNORE_REFERER = False  # an operator's change: still no way out to another site
    cas_server.user = "T1"
    _follow_provider(client, "/cas/login/")
    response = client.get("/cas/login/", HTTP_REFERER="https://evil.example/phish")
    assert response["Location"] == "/"


@pytest.mark.parametrize("url", FOREIGN_NEXT)
def test_oidc_sign_in_never_goes_to_another_site(client, users, oidc_provider, url):
    oidc_provider.user = "T1"
    start = client.get(_with_next("/oidc/authenticate/", url))
    assert client.session.get("oidc_login_next") is None  # mozilla-django-oidc's check: not kept
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_provider.headers["Location"])
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(_signed_in(client)) == users["teacher"].pk


def test_oidc_sign_in_keeps_a_page_of_this_site(client, users, oidc_provider):
    oidc_provider.user = "T1"
    assert _follow_provider(client, _with_next("/oidc/authenticate/", "/portal/"))["Location"] == "/portal/"


def test_oidc_foreign_next_slipped_into_the_session_is_not_followed(client, users, oidc_provider):
    oidc_provider.user = "T1"
    start = client.get("/oidc/authenticate/")
    session = client.session
    session["oidc_login_next"] = "https://evil.example/phish"
    session.save()
    back = urlsplit(requests.get(start["Location"], allow_redirects=False, timeout=5).headers["Location"])
    assert client.get(f"{back.path}?{back.query}")["Location"] == "/"


# --- /cas/login/ for every method (review defect 12) ---------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "delete", "options", "head"])
def test_cas_login_answers_404_for_every_method_while_off(client, db, settings, method):
    settings.CAS_ENABLED = False
    assert getattr(Client(), method)("/cas/login/").status_code == 404
    settings.OIDC_ENABLED = False
    assert getattr(Client(), method)("/oidc/callback/").status_code == 404


def test_cas_post_with_a_foreign_next_is_no_500(client, users, cas_server, settings):
    cas_server.user = "T1"
    _follow_provider(client, "/cas/login/")
    ticket = SessionTicket.objects.get().ticket
    answer = Client(enforce_csrf_checks=True).post(
        "/cas/login/", {"logoutRequest": logout_request(ticket), "next": "https://evil.example/"}
    )
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert SessionTicket.objects.count() == 0  # the single logout still worked
    plain = Client().post("/cas/login/", {"next": "//evil.example/"})
    assert plain.status_code == 302 and plain["Location"].startswith(settings.CAS_SERVER_URL)
    assert "evil.example" not in _query(plain["Location"])["service"]


# --- Who an identity may become (review defect 2) ------------------------------------------------------------


@pytest.mark.parametrize("name", ["root", "bureau", "district", "principal", "auditor"])
def test_oidc_username_of_a_superuser_or_staff_is_refused(client, users, oidc_provider, name):
    oidc_provider.user = name  # e.g. an identity that chose "root" as its preferred_username
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response["Location"] == "/accounts/login/?sso=refused" and _signed_in(client) is None


@pytest.mark.parametrize("name", ["root", "bureau", "auditor"])
def test_cas_username_of_a_superuser_or_staff_is_refused(client, users, cas_server, name):
    cas_server.user = name
    response = _follow_provider(client, "/cas/login/")
    assert response["Location"] == "/accounts/login/?sso=refused" and _signed_in(client) is None


def test_username_matching_when_allowed_never_reaches_staff_or_superusers(client, users, oidc_provider, settings):
    settings.SSO_MATCH_USERNAME = True
    plain = User.objects.create_user(username="reader-1")  # no role: not staff
    for name in ("root", "bureau", "district"):
        oidc_provider.user = name
        assert _follow_provider(client, "/oidc/authenticate/")["Location"] == "/accounts/login/?sso=refused"
        assert _signed_in(client) is None
    oidc_provider.user = "reader-1"
    assert _follow_provider(client, "/oidc/authenticate/")["Location"] == "/"
    assert int(_signed_in(client)) == plain.pk


def test_linked_superuser_never_signs_in_even_with_local_login_off(client, users, oidc_provider, cas_server,
                                                                   settings):
    settings.LOCAL_LOGIN_ENABLED = False
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "bureau.sso.CASSignInBackend"]
    from bureau.models import Profile

    Profile.objects.create(user=users["superuser"], role=Role.BUREAU, sso_issuer=oidc_provider.issuer,
                           sso_subject="sub-ops-1")  # written past the service, which refuses it
    oidc_provider.user = "ops-1"
    assert _follow_provider(client, "/oidc/authenticate/")["Location"] == "/accounts/login/?sso=refused"
    cas_server.user = "root"
    assert _follow_provider(client, "/cas/login/")["Location"] == "/accounts/login/?sso=refused"
    assert _signed_in(client) is None


def test_link_service_refuses_superusers_and_duplicates(users, oidc_provider):
    from bureau.errors import ApplicationError

    with pytest.raises(ApplicationError):
        _link(users["superuser"], oidc_provider.issuer, "sub-x")
    _link(users["bureau"], oidc_provider.issuer, "sub-x")
    with pytest.raises(ApplicationError):
        _link(users["auditor"], oidc_provider.issuer, "sub-x")
    with pytest.raises(ApplicationError):
        _link(users["auditor"], "", "sub-y")
    assert AuditEntry.objects.filter(action="bureau.sso.linked").count() == 1


def test_link_of_another_issuer_does_not_match(client, users, oidc_provider):
    _link(users["bureau"], "https://other-idp.example", "sub-ops-7")
    oidc_provider.user = "ops-7"
    assert _follow_provider(client, "/oidc/authenticate/")["Location"] == "/accounts/login/?sso=refused"


def test_cas_link_works(client, users, cas_server, settings):
    _link(users["district"], settings.CAS_SERVER_URL, "zhang.san")
    cas_server.user = "zhang.san"
    assert _follow_provider(client, "/cas/login/").status_code == 302
    assert int(_signed_in(client)) == users["district"].pk


def test_userinfo_about_another_subject_is_refused(client, users, oidc_provider):
    oidc_provider.user = "T1"
    oidc_provider.userinfo_sub = "sub-someone-else"
    assert _follow_provider(client, "/oidc/authenticate/")["Location"] == "/accounts/login/?sso=refused"
    assert _signed_in(client) is None


def test_admin_links_a_profile(client, users, oidc_provider):
    """Bureau staff link an account in the admin (ProfileAdmin); other roles cannot reach the form."""
    profile = users["auditor"].profile
    url = f"/admin/bureau/profile/{profile.pk}/change/"
    form = {"user": users["auditor"].pk, "role": Role.AUDITOR, "district": "", "school": "", "teacher": "",
            "sso_issuer": oidc_provider.issuer, "sso_subject": "sub-a-1"}
    for role in ("district", "principal", "auditor"):
        client.force_login(users[role])
        assert client.post(url, form).status_code in (302, 403)
        profile.refresh_from_db()
        assert profile.sso_subject == ""
    client.force_login(users["bureau"])
    assert client.post(url, form).status_code == 302
    profile.refresh_from_db()
    assert (profile.sso_issuer, profile.sso_subject) == (oidc_provider.issuer, "sub-a-1")
    client.logout()
    oidc_provider.user = "a-1"
    _follow_provider(client, "/oidc/authenticate/")
    assert int(_signed_in(client)) == users["auditor"].pk


# --- Refused id_tokens and tickets ---------------------------------------------------------------------------


def test_oidc_id_token_without_exp_is_refused(client, users, oidc_provider):
    oidc_provider.user = "T1"
    oidc_provider.id_token_claims = {"exp": None}
    assert _follow_provider(client, "/oidc/authenticate/")["Location"] == "/accounts/login/?sso=refused"
    assert _signed_in(client) is None


@pytest.mark.parametrize("switch", ["signature", "aud", "iss", "nonce", "expired", "no-aud", "issuer-unset",
                                    "several-aud-no-azp", "azp-another-client"])
def test_oidc_bad_id_token_is_refused(client, users, oidc_provider, settings, switch):
    oidc_provider.user = "T1"
    if switch == "signature":
        oidc_provider.sign_with_foreign_key = True
    elif switch == "aud":
        oidc_provider.id_token_claims = {"aud": "another-app"}
    elif switch == "iss":
        oidc_provider.id_token_claims = {"iss": "https://other-idp.example"}
    elif switch == "nonce":
        oidc_provider.id_token_claims = {"nonce": "not-the-sessions"}
    elif switch == "expired":
        oidc_provider.id_token_claims = {"exp": 1_000_000_000}
    elif switch == "no-aud":
        oidc_provider.id_token_claims = {"aud": None}
    elif switch == "several-aud-no-azp":  # OIDC Core 3.1.3.7: several audiences need azp
        oidc_provider.id_token_claims = {"aud": [oidc_provider.client_id, "another-app"]}
    elif switch == "azp-another-client":  # issued to another client, listing us too
        oidc_provider.id_token_claims = {"aud": [oidc_provider.client_id, "another-app"], "azp": "another-app"}
    else:
        settings.OIDC_OP_ISSUER = ""
    response = _follow_provider(client, "/oidc/authenticate/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?sso=failed"
    assert _signed_in(client) is None


@pytest.mark.parametrize("claims", [
    {"azp": "CLIENT"},  # one audience and azp: us
    {"aud": ["CLIENT", "another-app"], "azp": "CLIENT"},  # several audiences, issued to us
])
def test_oidc_id_token_with_our_azp_signs_in(client, users, oidc_provider, claims):
    oidc_provider.user = "T1"
    oidc_provider.id_token_claims = {k: ([oidc_provider.client_id if a == "CLIENT" else a for a in v] if isinstance(v, list)
                                         else oidc_provider.client_id if v == "CLIENT" else v) for k, v in claims.items()}
    _follow_provider(client, "/oidc/authenticate/")
    assert int(_signed_in(client)) == users["teacher"].pk


def test_oidc_signed_userinfo_for_several_audiences_needs_no_azp(client, users, oidc_provider):
    """azp is an id_token rule (OIDC Core 3.1.3.7); a signed userinfo answer (5.3.2) lists audiences without it."""
    oidc_provider.user = "T1"
    oidc_provider.signed_userinfo = {"aud": [oidc_provider.client_id, "https://api.example"]}
    _follow_provider(client, "/oidc/authenticate/")
    assert int(_signed_in(client)) == users["teacher"].pk


def test_oidc_callback_with_a_state_not_ours_is_refused(client, users, oidc_provider):
    client.get("/oidc/authenticate/")  # a session with states, but not this one
    response = client.get("/oidc/callback/?code=abc&state=forged")
    assert response["Location"] == "/accounts/login/?sso=failed" and _signed_in(client) is None


def test_cas_replayed_ticket_is_refused(client, users, cas_server):
    cas_server.user = "T1"
    start = client.get("/cas/login/")
    back = urlsplit(requests.get(start["Location"], allow_redirects=False, timeout=5).headers["Location"])
    assert int(_signed_in(client) or 0) == 0
    client.get(f"{back.path}?{back.query}")
    assert int(_signed_in(client)) == users["teacher"].pk
    other = Client()
    response = other.get(f"{back.path}?{back.query}")
    assert response["Location"] == "/accounts/login/?sso=refused"
    assert other.session.get("_auth_user_id") is None
