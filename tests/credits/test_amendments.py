"""补报 (CR-9 amended): after the annual close, a posting dated in the closed year waits until bureau staff
approve (it posts once) or refuse it with a reason; the amendment report names the changed verdicts."""

import datetime as dt
import io
import threading
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from bureau.services import ApplicationError
from credits.amendments import amendment_decide
from credits.models import Amendment, AmendmentEvent, LedgerEntry
from credits.posting import Posting, ledger_bulk_start
from credits.reports import report_build, report_start
from credits.services import ledger_adjust, ledger_reverse
from tests.export_helpers import export_content
from tests.xlsx import write_xlsx
from training.models import Project
from training.services import result_record

CLOSED = 2025


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


@pytest.fixture
def project(db):
    return Project.objects.create(
        code="P2025", name="课堂教学改进", level="市培", mode="集中面授", kind="必修", theme="学科教学",
        hours=D("30"), credits=D("12"), start_on=dt.date(CLOSED, 9, 1), end_on=dt.date(CLOSED, 12, 20),
        organiser="市教师发展中心",
    )


@pytest.fixture
def closed(media, users, city):
    """2025 closed with 张一 (T1, the only teacher of S1) at 60 credits: short, and S1 flagged."""
    t1 = city["teachers"][0]
    ledger_adjust(teacher_id=t1.pk, entry_date=dt.date(CLOSED, 5, 1), hours=D(60), credits=D(60), reason="往年记录",
                  actor=users["bureau"])
    return report_build(report_id=report_start(year=CLOSED, kind="closed", actor=users["bureau"]).pk)


def late_result(project, teacher, grade="合格", on=dt.date(CLOSED, 12, 20)):
    return result_record(project=project, teacher=teacher, grade=grade, completed_on=on, certified_hours=None,
                         actor=None, today=dt.date(CLOSED + 1, 2, 1))


def rows_of(teacher, year=CLOSED):
    return list(LedgerEntry.objects.filter(teacher=teacher, entry_date__year=year).order_by("id")
                .values_list("entry_date", "credits"))


def test_cr9_a_late_result_after_the_close_waits_and_a_reimport_adds_no_second(closed, project, city):
    t1 = city["teachers"][0]
    late_result(project, t1)
    assert rows_of(t1) == [(dt.date(CLOSED, 5, 1), D("60.00"))]  # nothing posted
    (amendment,) = Amendment.objects.all()
    assert (amendment.state, amendment.year, amendment.source_key, amendment.credits, amendment.entry_date) == (
        "pending", CLOSED, f"result:{t1.enrolments.get().pk}", D("12.00"), dt.date(CLOSED, 12, 20))
    late_result(project, t1)  # the same result saved (imported) again
    assert Amendment.objects.count() == 1
    assert list(AmendmentEvent.objects.values_list("action", flat=True)) == ["request"]


def test_cr9_a_changed_reimport_updates_the_pending_amendment_and_a_reverted_one_withdraws_it(closed, project, city):
    t1 = city["teachers"][0]
    late_result(project, t1)
    late_result(project, t1, on=dt.date(CLOSED, 12, 28))
    (amendment,) = Amendment.objects.all()
    assert (amendment.state, amendment.entry_date) == ("pending", dt.date(CLOSED, 12, 28))
    late_result(project, t1, grade="不合格")  # counts nothing, as the ledger already has it: nothing to approve
    amendment.refresh_from_db()
    assert amendment.state == "withdrawn"
    assert list(amendment.events.values_list("action", flat=True)) == ["request", "update", "withdraw"]
    assert rows_of(t1) == [(dt.date(CLOSED, 5, 1), D("60.00"))]


def test_cr9_approving_posts_exactly_one_row(closed, project, city, users):
    t1 = city["teachers"][0]
    late_result(project, t1)
    amendment = Amendment.objects.get()
    amendment_decide(amendment_id=amendment.pk, approve=True, reason="", actor=users["bureau"])
    assert rows_of(t1) == [(dt.date(CLOSED, 5, 1), D("60.00")), (dt.date(CLOSED, 12, 20), D("12.00"))]
    with pytest.raises(ApplicationError, match="已通过"):
        amendment_decide(amendment_id=amendment.pk, approve=True, reason="", actor=users["bureau"])
    late_result(project, t1)  # saved again after the approval: the ledger agrees, nothing more
    assert len(rows_of(t1)) == 2 and Amendment.objects.count() == 1
    amendment.refresh_from_db()
    assert (amendment.state, amendment.decided_by) == ("approved", users["bureau"])
    row = LedgerEntry.objects.get(source_key=amendment.source_key)
    assert (row.approved_by, row.source) == (users["bureau"], "training_result")
    closed.refresh_from_db()
    assert closed.summary["compliant"] == 0  # the frozen snapshot never changes


def test_cr9_refusing_needs_a_reason_and_posts_nothing(closed, project, city, users):
    t1 = city["teachers"][0]
    late_result(project, t1)
    amendment = Amendment.objects.get()
    with pytest.raises(ApplicationError, match="理由"):
        amendment_decide(amendment_id=amendment.pk, approve=False, reason="  ", actor=users["bureau"])
    amendment_decide(amendment_id=amendment.pk, approve=False, reason="考核材料不全", actor=users["bureau"])
    amendment.refresh_from_db()
    assert (amendment.state, amendment.decision_reason) == ("refused", "考核材料不全")
    assert rows_of(t1) == [(dt.date(CLOSED, 5, 1), D("60.00"))]
    late_result(project, t1)  # the refused change asked again unchanged is not asked twice
    assert Amendment.objects.count() == 1
    late_result(project, t1, on=dt.date(CLOSED, 12, 21))  # a different change is a new 补报
    assert Amendment.objects.filter(state="pending").count() == 1


@pytest.mark.parametrize("role", ["district", "principal", "teacher", "auditor"])
def test_cr9_only_bureau_staff_decide(closed, project, city, users, role):
    late_result(project, city["teachers"][0])
    with pytest.raises(ApplicationError, match="只有市教育局"):
        amendment_decide(amendment_id=Amendment.objects.get().pk, approve=True, reason="", actor=users[role])
    assert Amendment.objects.get().state == "pending"


def test_cr9_a_posting_dated_in_an_open_year_posts_at_once(closed, project, city, users):
    t1 = city["teachers"][0]
    late_result(project, t1, on=dt.date(CLOSED + 1, 1, 2))
    entry = ledger_adjust(teacher_id=t1.pk, entry_date=dt.date(CLOSED + 1, 1, 1), hours=D(1), credits=D(1),
                          reason="补录", actor=users["bureau"])
    assert isinstance(entry, LedgerEntry)
    assert len(rows_of(t1, CLOSED + 1)) == 2 and not Amendment.objects.exists()


def test_cr9_moving_a_waiting_result_into_an_open_year_posts_it_and_withdraws_the_amendment(closed, project, city):
    t1 = city["teachers"][0]
    late_result(project, t1)
    late_result(project, t1, on=dt.date(CLOSED + 1, 1, 3))
    assert rows_of(t1, CLOSED + 1) == [(dt.date(CLOSED + 1, 1, 3), D("12.00"))]
    assert Amendment.objects.get().state == "withdrawn"


def test_cr9_moving_a_posted_row_out_of_the_closed_year_waits_as_a_whole(closed, project, city, users):
    """The reversal would be dated in the closed year: neither it nor the new row is written yet."""
    t1 = city["teachers"][0]
    late_result(project, t1)
    amendment_decide(amendment_id=Amendment.objects.get().pk, approve=True, reason="", actor=users["bureau"])
    late_result(project, t1, on=dt.date(CLOSED + 1, 1, 3))
    pending = Amendment.objects.get(state="pending")
    assert pending.reverses.entry_date == dt.date(CLOSED, 12, 20) and pending.entry_date == dt.date(CLOSED + 1, 1, 3)
    assert rows_of(t1, CLOSED + 1) == []
    amendment_decide(amendment_id=pending.pk, approve=True, reason="日期更正", actor=users["bureau"])
    assert sum(c for _, c in rows_of(t1)) == D("60.00") and rows_of(t1, CLOSED + 1) == [(dt.date(CLOSED + 1, 1, 3), D("12.00"))]


def test_cr9_an_adjustment_and_a_reversal_in_the_closed_year_wait(closed, city, users):
    t1 = city["teachers"][0]
    held = ledger_adjust(teacher_id=t1.pk, entry_date=dt.date(CLOSED, 11, 1), hours=D(5), credits=D(5), reason="补录",
                         actor=users["bureau"])
    assert isinstance(held, Amendment) and held.state == "pending" and held.source == "manual_adjustment"
    frozen_row = LedgerEntry.objects.get(teacher=t1, entry_date=dt.date(CLOSED, 5, 1))
    reversal = ledger_reverse(entry=frozen_row, reason="重复登记", actor=users["bureau"])
    assert isinstance(reversal, Amendment) and reversal.action == "reverse_row"
    assert rows_of(t1) == [(dt.date(CLOSED, 5, 1), D("60.00"))]
    amendment_decide(amendment_id=reversal.pk, approve=True, reason="", actor=users["bureau"])
    assert rows_of(t1) == [(dt.date(CLOSED, 5, 1), D("60.00")), (dt.date(CLOSED, 5, 1), D("-60.00"))]


def test_bulk_start_refuses_rows_of_a_closed_year(closed, city):
    posting = Posting(teacher_id=city["teachers"][0].pk, entry_date=dt.date(CLOSED, 3, 1), hours=D(1), credits=D(1),
                      source="manual_adjustment")
    with pytest.raises(ValueError, match="closed"):
        ledger_bulk_start([("demo:1", posting)])


# --- the amendment report -----------------------------------------------------------------------------

def test_cr9_amendment_report_names_the_changed_teacher_verdict_and_school_flag(closed, project, city, users):
    t1 = city["teachers"][0]
    assert [s["flagged"] for s in closed.schools if s["code"] == "S1"] == [True]
    late_result(project, t1)
    amendment_decide(amendment_id=Amendment.objects.get().pk, approve=True, reason="成绩迟报", actor=users["bureau"])
    ledger_adjust(teacher_id=city["teachers"][1].pk, entry_date=dt.date(CLOSED, 6, 1), hours=D(2), credits=D(2),
                  reason="待审", actor=users["bureau"])
    book = load_workbook(io.BytesIO(export_content(_client(users["auditor"]), reverse("credits:amendment-report", args=[CLOSED]))))
    assert book.sheetnames == ["补报", "教师变化", "学校变化", "说明"]
    rows = list(book["补报"].iter_rows(values_only=True))
    assert rows[0] == ("工号", "姓名", "学校代码", "日期", "学时", "学分", "来源", "说明", "状态", "审核人", "审核时间", "理由")
    assert [(r[0], r[5], r[6], r[8], r[11]) for r in rows[1:]] == [
        ("T2", 2, "人工调整", "补报待审", None), ("T1", 12, "培训结果", "已通过", "成绩迟报")]
    teachers = list(book["教师变化"].iter_rows(values_only=True))
    assert teachers[1:] == [("T1", "张一", "S1", 60, "否", 72, "是", "是")]
    schools = list(book["学校变化"].iter_rows(values_only=True))
    assert [(r[0], r[4], r[6]) for r in schools[1:]] == [("S1", "是", "否")]


def test_cr9_amendment_report_of_a_year_not_closed_is_not_found(media, users):
    assert _client(users["bureau"]).get(reverse("credits:amendment-report", args=[2024])).status_code == 404


# --- pages --------------------------------------------------------------------------------------------

def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("role", "status"), [
    ("bureau", 200), ("superuser", 200), ("auditor", 200), ("district", 403), ("principal", 403), ("teacher", 403),
])
def test_amendment_page_and_download_per_role(closed, project, city, users, role, status):
    late_result(project, city["teachers"][0])
    client = _client(users[role])
    page = client.get(reverse("credits:amendments"))
    assert page.status_code == status
    assert client.get(reverse("credits:amendment-report", args=[CLOSED])).status_code == status
    if status == 200:
        html = page.content.decode()
        assert "张一" in html and "补报待审" in html
        assert ("通过</button>" in html) is (role != "auditor")  # auditors read only


def test_amendment_pages_send_anonymous_users_to_log_in(closed, client):
    for url in (reverse("credits:amendments"), reverse("credits:amendment-report", args=[CLOSED])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("role", ["auditor", "district", "principal", "teacher"])
def test_only_bureau_staff_decide_on_the_page(closed, project, city, users, role):
    late_result(project, city["teachers"][0])
    amendment = Amendment.objects.get()
    response = _client(users[role]).post(reverse("credits:amendment-decide", args=[amendment.pk]),
                                         {"decision": "approve"})
    assert response.status_code == 403
    assert Amendment.objects.get().state == "pending"


def test_bureau_approves_and_refuses_on_the_page(closed, project, city, users):
    late_result(project, city["teachers"][0])
    late_result(project, city["teachers"][1])
    first, second = Amendment.objects.order_by("id")
    client = _client(users["bureau"])
    url = reverse("credits:amendment-decide", args=[second.pk])
    response = client.post(url, {"decision": "refuse", "reason": ""}, follow=True)
    assert "拒绝补报请填写理由" in response.content.decode()
    client.post(url, {"decision": "refuse", "reason": "重复"})
    response = client.post(reverse("credits:amendment-decide", args=[first.pk]), {"decision": "approve"}, follow=True)
    assert "已通过，学分已登记" in response.content.decode()
    assert dict(Amendment.objects.values_list("pk", "state")) == {first.pk: "approved", second.pk: "refused"}
    assert LedgerEntry.objects.filter(source_key=first.source_key).count() == 1
    assert not LedgerEntry.objects.filter(source_key=second.source_key).exists()


def test_amendment_list_queries_do_not_grow_with_rows(closed, city, users, django_assert_max_num_queries):
    for day in range(1, 41):
        ledger_adjust(teacher_id=city["teachers"][day % 3].pk, entry_date=dt.date(CLOSED, 1, day % 28 + 1),
                      hours=D(1), credits=D(1), reason=f"补录{day}", actor=users["bureau"])
    client = _client(users["bureau"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("credits:amendments"), {"year": CLOSED})
    assert response.content.decode().count("通过</button>") == 40


def test_the_reports_page_links_the_amendment_report_beside_the_frozen_workbook(closed, users):
    html = _client(users["bureau"]).get(reverse("credits:reports")).content.decode()
    assert reverse("credits:amendment-report", args=[CLOSED]) in html


def test_the_adjustment_form_says_it_waits(closed, city, users):
    response = _client(users["bureau"]).post(reverse("admin:credits_ledgerentry_add"), {
        "teacher": city["teachers"][0].pk, "entry_date": f"{CLOSED}-10-01", "hours": "3", "credits": "3", "reason": "补录",
    }, follow=True)
    assert "已作为补报等待市教育局审核" in response.content.decode()
    assert Amendment.objects.get().state == "pending"
    assert rows_of(city["teachers"][0]) == [(dt.date(CLOSED, 5, 1), D("60.00"))]


def test_the_teacher_portal_shows_a_pending_amendment(closed, project, city, users):
    late_result(project, city["teachers"][0])
    html = _client(users["teacher"]).get(reverse("credits:portal"), {"year": CLOSED}).content.decode()
    assert "补报待审" in html


def test_the_result_import_summary_says_which_rows_wait(closed, city, users, tmp_path, capsys):
    Project.objects.create(
        code="GP2025-09", name="国培示范", level="国培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
        credits=D("24"), start_on=dt.date(CLOSED, 9, 1), end_on=dt.date(CLOSED, 12, 1), organiser="省教育厅")
    path = write_xlsx(tmp_path / "r.xlsx", ["项目编号", "工号", "姓名", "考核结果", "完成日期", "认定学时"],
                      [["GP2025-09", "T1", "张一", "合格", "2025-12-01", None],
                       ["GP2025-09", "T2", "李二", "合格", "2026-01-05", None]])
    call_command("import_results", path)
    assert "其中 1 行的完成日期属于已关账年度" in capsys.readouterr().out
    call_command("import_results", path)
    assert "其中 1 行" in capsys.readouterr().out
    assert Amendment.objects.count() == 1
    assert LedgerEntry.objects.filter(teacher__staff_no="T2", entry_date=dt.date(2026, 1, 5)).count() == 1


# --- exactly once under concurrency (CR-2) --------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_cr9_two_approvals_at_once_post_one_row(settings, tmp_path, city, users):
    settings.MEDIA_ROOT = tmp_path
    t1 = city["teachers"][0]
    report_build(report_id=report_start(year=CLOSED, kind="closed", actor=users["bureau"]).pk)
    amendment = ledger_adjust(teacher_id=t1.pk, entry_date=dt.date(CLOSED, 7, 1), hours=D(4), credits=D(4),
                              reason="补录", actor=users["bureau"])
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            amendment_decide(amendment_id=amendment.pk, approve=True, reason="", actor=users["bureau"])
            outcomes.append("ok")
        except ApplicationError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0] == "ok" and "已通过" in sorted(outcomes)[1]
    assert LedgerEntry.objects.filter(source_key=amendment.source_key).count() == 1


def test_cr9_hours_approved_for_a_day_of_the_closed_year_wait_and_the_principal_is_told(closed, city, users):
    from credits.models import HoursSubmission

    submission = HoursSubmission.objects.create(teacher=city["teachers"][0], kind="school_based", title="教研活动",
                                                studied_on=dt.date(CLOSED, 12, 30), hours=D(3), evidence="签到表")
    response = _client(users["principal"]).post(reverse("credits:school-hours-decide", args=[submission.pk]),
                                                {"decision": "approve", "note": ""}, follow=True)
    assert "已作为补报等待市教育局审核" in response.content.decode()
    submission.refresh_from_db()
    assert submission.state == "approved"
    assert Amendment.objects.get().source_key == f"submission:{submission.pk}"
    assert rows_of(city["teachers"][0]) == [(dt.date(CLOSED, 5, 1), D("60.00"))]
