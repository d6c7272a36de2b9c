"""A teacher signs in through the bureau's identity provider (the test OIDC provider and CAS server, tests/idp,
served over HTTP) in a real browser and lands on the portal; signing out ends the provider's session too, and
the CAS server's single logout ends ours (issue 19 item 3)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import SCREENSHOTS
from tests.idp.fixtures import cas_server, oidc_provider  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_teacher_signs_in_through_oidc_and_lands_on_portal(page, users, city, oidc_provider):
    oidc_provider.user = "T1"  # the first teacher's 工号
    page.goto("/accounts/login/")
    page.screenshot(path=str(SCREENSHOTS / "browser-sso-login.png"), full_page=True)
    page.get_by_role("link", name="使用统一身份认证登录").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("link", name="退出")).to_be_visible()
    expect(page.locator("#annual-credits")).to_be_visible()


def test_unknown_identity_is_told_on_the_login_page(page, users, oidc_provider):
    oidc_provider.user = "nobody"
    page.goto("/accounts/login/")
    page.get_by_role("link", name="使用统一身份认证登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?sso=refused$"))
    expect(page.get_by_role("alert")).to_contain_text("该身份在本平台没有对应的账号")


def test_teacher_signs_out_of_oidc_and_the_provider_session_ends(page, users, city, oidc_provider):
    oidc_provider.user = "T1"
    page.goto("/accounts/login/")
    page.get_by_role("link", name="使用统一身份认证登录").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    assert len(oidc_provider.sessions) == 1
    page.get_by_role("link", name="退出").click()
    page.get_by_role("button", name="确认退出").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))  # back from the provider's end_session
    assert oidc_provider.sessions == {} and len(oidc_provider.ended) == 1
    page.goto("/portal/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/portal/$"))


def test_teacher_signs_in_through_cas_and_out_of_it(page, users, city, cas_server):
    cas_server.user = "T1"
    page.goto("/accounts/login/")
    page.get_by_role("link", name="使用统一身份认证登录（CAS）").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("link", name="退出")).to_be_visible()
    expect(page.locator("#annual-credits")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "browser-sso-cas-portal.png"), full_page=True)
    assert len(cas_server.sessions) == 1
    page.get_by_role("link", name="退出").click()
    page.get_by_role("button", name="确认退出").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))  # back from the CAS server's /logout
    assert cas_server.sessions == {} and len(cas_server.ended) == 1
    page.goto("/portal/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/portal/$"))


def test_cas_server_ending_the_session_signs_the_teacher_out_here(page, users, city, cas_server):
    """The CAS server's back-channel single logout, POSTed over HTTP to the live server, ends our session."""
    cas_server.user = "T1"
    page.goto("/accounts/login/")
    page.get_by_role("link", name="使用统一身份认证登录（CAS）").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    (sid,) = cas_server.sessions
    cas_server.end_session(sid)  # e.g. the teacher signed out of another site of the bureau
    assert [status for _, status in cas_server.slo_sent] == [302]
    page.reload()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/portal/$"))


def test_cas_sign_in_with_a_foreign_next_stays_on_this_site(page, users, city, cas_server):
    """A link to /cas/login/?next=<another site> (a phishing mail) signs the teacher in here and stays here."""
    cas_server.user = "T1"
    page.goto("/cas/login/?next=https://evil.example/phish")
    expect(page).to_have_url(re.compile(r"/portal/$"))
    page.goto("/cas/login/?next=//evil.example/phish")  # already signed in
    expect(page).to_have_url(re.compile(r"/portal/$"))
