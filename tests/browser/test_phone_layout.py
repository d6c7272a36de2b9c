"""Issue 17 items 1 and 9: every page of the teacher's and the principal's menu on a phone (390 × 844).

For each page: the page itself never scrolls sideways (`document.documentElement.scrollWidth` ≤ the viewport's
width; wide tables become cards or scroll inside their own box), a full-page screenshot is kept as a test
artefact in $BROWSER_ARTEFACTS (default: a directory under the system's temporary directory; never committed),
and axe-core (vendored in tests/browser/vendor, injected by the test, never served by the site) finds no
violation of impact serious or critical. The 菜单 button opens the collapsed menu.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from backbone.services import round_open
from bureau.templatetags.menu import MENUS
from credits.claims import ClaimFields, claim_submit
from credits.services import hours_submit, ledger_adjust
from exchange.services import plan_open
from tests.browser.helpers import log_in
from training.appeals import appeal_file
from training.models import AppealKind, Project
from training.services import enrolment_apply

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8") + "\n;undefined"
ARTEFACTS = Path(os.environ.get("BROWSER_ARTEFACTS") or Path(tempfile.gettempdir()) / "browser-artefacts")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# Long words and numbers that must wrap rather than widen the page.
LONG_NAME = "新时代中小学教师数字化教学能力提升暨人工智能赋能课堂教学创新实践高级研修班（第二期）"
LONG_CODE = "P2026XJ0000012345678901234567890"
# The Django admin (本校教师) has its own responsive layout and its own markup: checked for width, not by axe.
NOT_OURS = {"admin:index"}


def pages_of(kind: str) -> list[tuple[str, str]]:
    """The role's menu, groups' pages included, and the inbox behind the header's 通知 link."""
    pages = [page for _, target in MENUS[kind]
             for page in ([(_, target)] if isinstance(target, str) else target)]
    return [*pages, ("通知", "notices")]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def year_in_motion(users, city, media):
    """Rows on every page the teacher and the principal see: a project with a long name and code the teacher
    applied for, submitted hours, a claim waiting for the school and credits with a long reason."""
    teacher = city["teachers"][0]
    today = timezone.localdate()
    project = Project.objects.create(
        code=LONG_CODE, name=LONG_NAME, level="市培", mode="集中面授", kind="必修", theme="师德",
        hours=D("24"), credits=D("24"), start_on=today + dt.timedelta(days=10), end_on=today + dt.timedelta(days=40),
        organiser="市教师发展中心暨教育科学研究院", status="enrolling",
    )
    Project.objects.create(
        code="P2", name=LONG_NAME + "（第三期）", level="区培", mode="网络研修", kind="选修", theme="信息技术",
        hours=D("12"), credits=D("12"), start_on=today + dt.timedelta(days=20), end_on=today + dt.timedelta(days=50),
        organiser="城东区教师进修学校", status="enrolling",
    )
    enrolment_apply(project=project, teacher=teacher, actor=users["teacher"], today=today)
    hours_submit(teacher=teacher, kind="school", title=LONG_NAME, studied_on=today, hours=D("4"), theme="师德",
                 evidence="教研活动签到表、听课记录" * 5, actor=users["teacher"], today=today)
    claim_submit(
        teacher=teacher, actor=users["teacher"], now=timezone.now(),
        fields=ClaimFields(LONG_NAME, "省教育学院", today, today, D("36"), "网络研修", "信息技术",
                           certificate_no="ZS-2026-0000000000000000000123456789"),
        files=[SimpleUploadedFile("结业证书结业证书结业证书结业证书结业证书.pdf", PDF, content_type="application/pdf")],
    )
    entry = ledger_adjust(teacher_id=teacher.pk, entry_date=today, hours=D(12), credits=D(12),
                          reason="补录：" + LONG_NAME, actor=users["bureau"])
    appeal_file(teacher=teacher, kind=AppealKind.LEDGER, target_id=entry.pk, reason="少记学时：" + LONG_NAME,
                actor=users["teacher"], now=timezone.now())
    plan_open(year=today.year, actor=users["bureau"])
    round_open(year=today.year, tier="县级", type_="骨干教师", places=2, district=city["districts"][0],
               actor=users["bureau"])
    return project


def overflow(page) -> dict:
    return page.evaluate("""() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        wide: [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
                     && !e.closest('.table-wrap, .table-scroll, .scroll-box, table.data'))
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 30)),
    })""")


def axe_violations(page) -> list[dict]:
    # Not page.add_script_tag: that inserts an inline <script>, which the site's content security policy
    # refuses (SEC-5). Evaluated through the DevTools protocol instead, axe runs without loosening the policy.
    page.evaluate(AXE_SOURCE)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"] if v["impact"] in ("serious", "critical")
    ]


def unlabelled_fields(page) -> list[str]:
    """Form fields without a label of their own: a <label>, aria-label or aria-labelledby (a placeholder, which
    disappears while typing, or a title does not count here, although axe accepts them)."""
    return page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => !['hidden', 'submit', 'button', 'reset', 'image'].includes(e.type))
        .filter(e => !(e.labels && e.labels.length) && !(e.getAttribute('aria-label') || '').trim()
                     && !e.getAttribute('aria-labelledby'))
        .map(e => e.outerHTML.slice(0, 120))""")


def walk(page, kind: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for label, name in pages_of(kind):
        response = page.goto(reverse(name))
        assert response is not None and response.ok, (label, name, response and response.status)
        page.wait_for_load_state("load")
        page.screenshot(path=str(ARTEFACTS / f"phone-{kind}-{name.replace(':', '-')}.png"), full_page=True)
        measured = overflow(page)
        if measured["scrollWidth"] > PHONE["width"]:
            problems.append((label, page.url, measured))
        if name not in NOT_OURS:
            found = axe_violations(page)
            if found:
                problems.append((label, page.url, found))
            unlabelled = unlabelled_fields(page)
            if unlabelled:
                problems.append((label, page.url, "unlabelled", unlabelled))
    assert not problems, "\n".join(map(str, problems))


def test_teacher_pages_fit_a_phone_and_pass_axe(page, users, city, year_in_motion):
    page.set_viewport_size(PHONE)
    log_in(page, "teacher")
    walk(page, "teacher")


def test_principal_pages_fit_a_phone_and_pass_axe(page, users, city, year_in_motion):
    page.set_viewport_size(PHONE)
    log_in(page, "principal")
    walk(page, "principal")


@pytest.mark.parametrize("width", [360, 414])
@pytest.mark.parametrize("role, kind", [("teacher", "teacher"), ("principal", "principal")])
def test_no_page_scrolls_sideways_from_360_to_414_px(page, users, city, year_in_motion, width, role, kind):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(reverse("login"))
    wide = [("登录", page.url, overflow(page))] if overflow(page)["scrollWidth"] > width else []
    log_in(page, role)
    for label, name in pages_of(kind):
        page.goto(reverse(name))
        measured = overflow(page)
        if measured["scrollWidth"] > width:
            wide.append((label, page.url, measured))
    assert not wide, "\n".join(map(str, wide))


def test_the_menu_button_opens_the_menu_on_a_phone(page, users, city):
    page.set_viewport_size(PHONE)
    log_in(page, "teacher")
    nav = page.get_by_role("navigation")
    toggle = page.get_by_role("button", name="菜单")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="培训报名")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    link = nav.get_by_role("link", name="培训报名")
    expect(link).to_be_visible()
    assert link.bounding_box()["height"] >= 44  # touch-sized
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "phone-teacher-menu-open.png"))
    link.click()
    expect(page).to_have_url(re.compile(r"/portal/projects/$"))
    expect(page.get_by_role("button", name="菜单")).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("button", name="菜单").click()  # closes again
    expect(nav.get_by_role("link", name="培训报名")).to_be_hidden()


def test_on_a_desktop_the_menu_shows_without_a_button(page, users, city):
    log_in(page, "principal")  # 1280 wide
    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    expect(page.get_by_role("navigation").get_by_role("link", name="审核", exact=True)).to_be_visible()
