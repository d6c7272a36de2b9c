"""A teacher signs in through the bureau's identity provider (the test OIDC provider, tests/idp, served over
HTTP) in a real browser and lands on the portal (issue 19 item 3)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import SCREENSHOTS
from tests.idp.fixtures import oidc_provider  # noqa: F401 (fixture)

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
