"""What the browser tests share: logging in as a person does, and where screenshots go."""

import os
from pathlib import Path

from playwright.sync_api import expect

PASSWORD = "pw-for-tests"  # tests.factories.UserFactory's
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", "/tmp"))


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.locator('input[name="username"]').press_sequentially(username)
    page.locator('input[name="password"]').press_sequentially(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("link", name="退出")).to_be_visible()


def log_out(page) -> None:
    """退出 leads to a confirmation form; confirming signs out and returns to the login page."""
    page.get_by_role("link", name="退出").click()
    page.get_by_role("button", name="确认退出").click()
    expect(page.get_by_role("button", name="登录")).to_be_visible()


def open_from_menu(page, *labels: str) -> None:
    """Follow the menu: a group's label opens its hub, whose menu then lists the group's pages
    (bureau.templatetags.menu), e.g. open_from_menu(page, "审核", "免考核")."""
    for label in labels:
        toggle = page.get_by_role("button", name="菜单")
        if toggle.count() and toggle.first.is_visible() and toggle.first.get_attribute("aria-expanded") != "true":
            toggle.first.click()  # on a phone the menu is behind 菜单 (issue 17)
        with page.expect_navigation():
            page.get_by_role("navigation").get_by_role("link", name=label, exact=True).first.click()
