"""Who is short on what, in a real browser on a phone: the principal opens the list from the menu and
sees each teacher's missing items; the list fits the phone (as cards, issue 17), the page never scrolls sideways."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from credits.services import ledger_adjust
from tests.browser.helpers import SCREENSHOTS, log_in, open_from_menu

pytestmark = pytest.mark.browser


def test_principal_sees_who_is_short_on_what_on_a_phone(page, users, city):
    ledger_adjust(teacher_id=city["teachers"][0].pk, entry_date=dt.date(2026, 4, 1), hours=D(80), credits=D(80),
                  reason="测试", actor=users["bureau"])
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, "principal")
    open_from_menu(page, "本校达标", "欠缺名单")
    expect(page).to_have_url(re.compile(r"/school/short/$"))
    row = page.locator("#short-list tbody tr", has_text="张一")
    expect(row).to_contain_text("师德、校本")
    expect(row).not_to_contain_text("学分、")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
    page.screenshot(path=str(SCREENSHOTS / "browser-principal-short-list.png"), full_page=True)
