"""学时认定 in a real browser: the teacher claims with a PDF, the principal and the district approve, the portal's
progress bar moves and the turnaround page lists the claim."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from credits.models import Claim, LedgerEntry
from tests.browser.helpers import SCREENSHOTS, log_in, log_out, open_from_menu

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TITLE = "省级骨干教师数字化研修"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_claim_with_pdf_is_approved_and_counts(page, users, city, media):
    today = timezone.localdate().isoformat()
    log_in(page, "teacher")
    annual = page.locator("#annual-credits").get_by_role("progressbar")
    expect(annual).to_have_attribute("aria-valuenow", "0")

    # The teacher claims 36 hours with the certificate as a PDF.
    open_from_menu(page, "学时", "学时认定")
    expect(page).to_have_url(re.compile(r"/portal/claims/$"))
    form = page.locator("#claim-form")
    form.get_by_label("培训名称").fill(TITLE)
    form.get_by_label("主办单位").fill("省教育学院")
    form.get_by_label("开始日期").fill(today)
    form.get_by_label("结束日期").fill(today)
    form.get_by_label("学时").fill("36")
    form.get_by_label("培训方式").select_option("网络研修")
    form.get_by_label("主题").select_option("信息技术")
    form.get_by_label("佐证材料").set_input_files([{"name": "结业证书.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    form.get_by_role("button", name="提交认定申请").click()
    expect(page.locator(".messages")).to_contain_text(f"已提交“{TITLE}”，等待东一小学审核")
    mine = page.locator("#my-claims tbody tr", has_text=TITLE)
    expect(mine).to_contain_text("学校审核中（东一小学）")
    expect(mine.get_by_role("link", name="结业证书.pdf")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "browser-claims-teacher.png"), full_page=True)
    claim = Claim.objects.get()
    assert claim.evidence.get().file.name.startswith(f"evidence/{claim.pk}/")

    # The principal of 东一小学 approves: the claim goes to the district.
    log_out(page)
    log_in(page, "principal")
    open_from_menu(page, "审核", "学时认定")
    expect(page).to_have_url(re.compile(r"/school/claims/$"))
    row = page.locator("#pending-claims tbody tr", has_text="张一（T1）")
    expect(row).to_contain_text(TITLE)
    row.get_by_role("button", name="通过", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"学校审核通过：张一“{TITLE}”")
    expect(page.locator("#recent-claims tbody tr", has_text=TITLE)).to_contain_text("区县审核中（城东区）")

    # The district approves: one ledger row of source 学时认定.
    log_out(page)
    log_in(page, "district")
    page.goto("/claims/review/")
    row = page.locator("#pending-claims tbody tr", has_text="张一（T1）")
    expect(row).to_contain_text("东一小学")
    row.get_by_role("button", name="认定通过").click()
    expect(page.locator(".messages")).to_contain_text(f"认定通过：张一“{TITLE}”")
    expect(page.locator("#recent-claims tbody tr", has_text=TITLE)).to_contain_text("已认定")
    assert LedgerEntry.objects.get().source == "external_certificate"

    # The turnaround page counts it for 东一小学 and lists it in the school's detail.
    page.get_by_role("link", name="办理时效统计").click()
    expect(page).to_have_url(re.compile(r"/claims/turnaround/$"))
    school = page.locator("#school-turnaround tbody tr", has_text="东一小学")
    expect(school.locator("td").nth(2)).to_have_text("1")  # 办结
    school.get_by_role("link", name="明细").click()
    decided = page.locator("#decided-claims tbody tr", has_text=TITLE)
    expect(decided).to_contain_text("张一（T1）")
    expect(decided).to_contain_text("已认定")
    page.screenshot(path=str(SCREENSHOTS / "browser-claims-turnaround.png"), full_page=True)

    # The teacher's progress bar moves: 36 of 72 credits.
    log_out(page)
    log_in(page, "teacher")
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.locator("#annual-credits .figure")).to_have_text("36")
    expect(annual).to_have_attribute("aria-valuenow", "50")
    page.screenshot(path=str(SCREENSHOTS / "browser-claims-portal.png"), full_page=True)
