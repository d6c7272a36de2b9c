"""申诉 pages (CR-12) per role: 我的申诉 (teacher), 申诉处理 and the decision page (organisers, bureau), the
turnaround report and its xlsx (bureau, district, auditors); query caps; the report's turnaround figures."""

import datetime as dt
import io
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from credits.models import LedgerEntry
from training.appeals import appeal_decide, appeal_file, visible_appeals
from training.appeals_report import appeal_turnaround
from training.models import Appeal, AppealKind, AppealState, Result
from training.services import result_record

from .test_appeals import make_project

SH = ZoneInfo("Asia/Shanghai")
ROLES = ["superuser", "bureau", "district", "principal", "teacher", "auditor"]


@pytest.fixture
def data(users, city):
    d1 = city["districts"][0]
    x1 = make_project("X1", level="县培", owner_district=d1)
    c1 = make_project("C1")
    teacher = city["teachers"][0]
    result, _ = result_record(project=x1, teacher=teacher, grade="合格", completed_on=dt.date(2026, 10, 5),
                              certified_hours=D("12"), actor=users["bureau"])
    other, _ = result_record(project=c1, teacher=city["teachers"][1], grade="合格", completed_on=dt.date(2026, 10, 5),
                             certified_hours=None, actor=users["bureau"])
    appeal = appeal_file(teacher=teacher, kind=AppealKind.RESULT, target_id=result.pk, reason="考勤有误",
                         actor=users["teacher"], now=timezone.now())
    return {"x1": x1, "c1": c1, "result": result, "other": other, "appeal": appeal, "teacher": teacher}


PAGES = {
    "training:appeals-mine": {"teacher"},
    "training:appeals-queue": {"superuser", "bureau", "district", "principal", "auditor"},
    "training:appeals-report": {"superuser", "bureau", "district", "auditor"},
    "training:appeals-report-xlsx": {"superuser", "bureau", "district", "auditor"},
}


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_permissions_per_role(client, users, data, role, page):
    if role != "anonymous":
        client.force_login(users[role])
    response = client.get(reverse(page))
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if role in PAGES[page] else 403)


# The appeal is on X1, the first district's 县培: its organiser (district) and bureau staff decide.
DECIDE = {"superuser": 200, "bureau": 200, "district": 200, "principal": 403, "teacher": 403, "auditor": 403}


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_decision_page_per_role(client, users, data, role):
    if role != "anonymous":
        client.force_login(users[role])
    url = reverse("training:appeal-decide", args=[data["appeal"].pk])
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302
    else:
        assert response.status_code == DECIDE[role]
    response = client.post(url, {"decision": "reject", "reason": "不成立"})
    assert Appeal.objects.get().state == (AppealState.REJECTED if DECIDE.get(role) == 200 else AppealState.PENDING)


def test_non_organiser_gets_403_on_a_city_project(client, users, data, city):
    appeal = appeal_file(teacher=city["teachers"][0], kind=AppealKind.LEDGER,
                         target_id=LedgerEntry.objects.get(source_key=f"result:{data['result'].enrolment_id}").pk,
                         reason="少记", actor=users["teacher"], now=timezone.now())
    Appeal.objects.filter(pk=appeal.pk).update(project=data["c1"])  # as if the row came from the city project
    client.force_login(users["district"])
    assert client.get(reverse("training:appeal-decide", args=[appeal.pk])).status_code == 403
    response = client.post(reverse("training:appeal-decide", args=[appeal.pk]), {"decision": "reject", "reason": "x"})
    assert response.status_code == 403 and Appeal.objects.get(pk=appeal.pk).state == AppealState.PENDING


def test_district_outside_its_scope_gets_404(client, users, city):
    teacher = city["teachers"][2]  # 西一小学, the other district
    project = make_project("C9")
    result, _ = result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(2026, 10, 5),
                              certified_hours=None, actor=users["bureau"])
    appeal = Appeal.objects.create(teacher=teacher, school=teacher.school, kind="result", result=result,
                                   project=project, reason="x", submitted_at=timezone.now())
    client.force_login(users["district"])
    assert client.get(reverse("training:appeal-decide", args=[appeal.pk])).status_code == 404


def test_upheld_on_the_page_corrects_the_result_and_the_ledger(client, users, data):
    client.force_login(users["district"])
    response = client.post(reverse("training:appeal-decide", args=[data["appeal"].pk]), {
        "decision": "uphold", "reason": "核实全勤", "grade": "优秀", "certified_hours": "24"})
    assert response.status_code == 302
    assert Result.objects.get(pk=data["result"].pk).grade == "优秀"
    rows = LedgerEntry.objects.filter(source_key=f"result:{data['result'].enrolment_id}")
    assert rows.count() == 3 and rows.filter(reverses__isnull=False).count() == 1


def test_decision_without_reason_is_shown_and_nothing_changes(client, users, data):
    client.force_login(users["district"])
    response = client.post(reverse("training:appeal-decide", args=[data["appeal"].pk]),
                           {"decision": "uphold", "reason": "", "grade": "优秀"})
    assert response.status_code == 200 and "请填写处理意见" in response.content.decode()
    assert Appeal.objects.get().state == AppealState.PENDING
    assert Result.objects.get(pk=data["result"].pk).grade == "合格"


def test_teacher_page_lists_own_and_files_an_appeal(client, users, data):
    client.force_login(users["teacher"])
    page = client.get(reverse("training:appeals-mine")).content.decode()
    assert data["x1"].name in page and data["c1"].name not in page  # another teacher's result is not shown
    assert "申诉处理中" in page  # the pending appeal on the result
    form = client.get(reverse("training:appeals-mine"), {"kind": "verdict", "year": "2026"}).content.decode()
    assert 'id="appeal-form"' in form
    response = client.post(reverse("training:appeals-mine"), {"kind": "verdict", "year": "2026", "reason": "漏记"})
    assert response.status_code == 302
    assert Appeal.objects.filter(kind="verdict", year=2026, teacher=data["teacher"]).exists()


def test_teacher_cannot_appeal_another_teachers_result_on_the_page(client, users, data):
    client.force_login(users["teacher"])
    response = client.post(reverse("training:appeals-mine"),
                           {"kind": "result", "target": data["other"].pk, "reason": "不对"})
    assert response.status_code == 200 and "找不到您的这条考核结果" in response.content.decode()
    assert not Appeal.objects.filter(result=data["other"]).exists()


def test_teacher_withdraws_on_the_page(client, users, data):
    client.force_login(users["teacher"])
    client.post(reverse("training:appeal-withdraw", args=[data["appeal"].pk]))
    assert Appeal.objects.get().state == AppealState.WITHDRAWN


def test_transcript_offers_an_appeal_on_a_recent_row(client, users, data):
    client.force_login(users["teacher"])
    page = client.get(reverse("credits:transcript")).content.decode()
    row = LedgerEntry.objects.get(teacher=data["teacher"])
    assert f"kind=ledger&amp;target={row.pk}" in page


def _many(users, city, n=8):
    teacher = city["teachers"][0]
    for i in range(n):
        project = make_project(f"Q{i}", level="县培", owner_district=city["districts"][0])
        result, _ = result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(2026, 10, 5),
                                  certified_hours=None, actor=users["bureau"])
        appeal = appeal_file(teacher=teacher, kind=AppealKind.RESULT, target_id=result.pk, reason=f"理由{i}",
                             actor=users["teacher"], now=timezone.now())
        if i % 2:
            appeal_decide(appeal=appeal, uphold=False, reason="不成立", actor=users["bureau"], now=timezone.now())


@pytest.mark.parametrize("role, page, cap", [
    ("teacher", "training:appeals-mine", 10),
    ("district", "training:appeals-queue", 7),
    ("bureau", "training:appeals-queue", 7),
    ("bureau", "training:appeals-report", 7),
])
def test_list_pages_query_count_does_not_grow_with_rows(client, users, city, data, django_assert_max_num_queries,
                                                        role, page, cap):
    _many(users, city)
    client.force_login(users[role])
    with django_assert_max_num_queries(cap):
        response = client.get(reverse(page))
    assert response.status_code == 200


def test_report_turnaround_figures(users, city, data):
    """Three decided appeals of 东一小学 after 1, 2 and 12 days (limit 7: one late), one pending for 9 days."""
    teacher = city["teachers"][0]
    start = dt.datetime(2026, 6, 1, 9, 0, tzinfo=SH)
    Appeal.objects.all().delete()
    for days in (1, 2, 12):
        Appeal.objects.create(teacher=teacher, school=teacher.school, kind="verdict", year=2026 - days, reason="r",
                              state=AppealState.UPHELD if days == 2 else AppealState.REJECTED, submitted_at=start,
                              decided_at=start + dt.timedelta(days=days), decided_by=users["bureau"])
    Appeal.objects.create(teacher=teacher, school=teacher.school, kind="verdict", year=2026, reason="r",
                          submitted_at=start + dt.timedelta(days=20))
    now = start + dt.timedelta(days=29)
    report = appeal_turnaround(appeals=visible_appeals(users["bureau"]), start=dt.date(2026, 6, 1),
                               end=dt.date(2026, 6, 30), now=now)
    assert report.max_wait_days == 7
    (s1,) = report.schools
    assert (s1["school_code"], s1["decided"], s1["upheld"], s1["late"], s1["waiting"], s1["waiting_late"]) == (
        "S1", 3, 1, 1, 1, 1)
    assert s1["median_days"] == pytest.approx(2) and s1["p90_days"] == pytest.approx(10)
    assert [a.year for a in report.late] == [2014, 2026]  # 12 days decided, then 9 days pending
    # the district's view holds the same school; an auditor's xlsx carries the same figures
    assert report.total["decided"] == 3


def test_report_xlsx_has_the_school_figures(client, users, data):
    appeal_decide(appeal=data["appeal"], uphold=False, reason="不成立", actor=users["bureau"], now=timezone.now())
    client.force_login(users["auditor"])
    response = client.get(reverse("training:appeals-report-xlsx"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book["学校"].iter_rows(values_only=True))
    assert rows[0][:5] == ("区县", "学校代码", "学校", "办结", "支持")
    assert rows[1][1:5] == ("S1", "东一小学", 1, 0)


def test_queue_marks_appeals_pending_past_the_wait_limit(client, users, data):
    client.force_login(users["bureau"])
    assert "overdue" not in client.get(reverse("training:appeals-queue")).content.decode()
    Appeal.objects.filter(pk=data["appeal"].pk).update(submitted_at=timezone.now() - dt.timedelta(days=7, hours=1))
    page = client.get(reverse("training:appeals-queue")).content.decode()
    assert 'class="badge bad overdue">超期' in page
    assert reverse("training:appeal-decide", args=[data["appeal"].pk]) in page


def test_teacher_is_told_of_the_decision(users, data, django_capture_on_commit_callbacks):
    from bureau.models import Notice

    with django_capture_on_commit_callbacks(execute=True):
        appeal_decide(appeal=data["appeal"], uphold=False, reason="考勤不足", actor=users["district"],
                      now=timezone.now())
    notice = Notice.objects.get(recipient=users["teacher"], key=f"appeal:{data['appeal'].pk}:rejected")
    assert "已驳回" in notice.title and "考勤不足" in notice.body


def test_report_is_scoped_to_the_district(users, city, data):
    teacher = city["teachers"][2]  # the other district
    Appeal.objects.create(teacher=teacher, school=teacher.school, kind="verdict", year=2026, reason="r",
                          submitted_at=timezone.now())
    today = timezone.localdate()
    mine = appeal_turnaround(appeals=visible_appeals(users["district"]), start=today, end=today, now=timezone.now())
    everyone = appeal_turnaround(appeals=visible_appeals(users["bureau"]), start=today, end=today, now=timezone.now())
    assert [s["school_code"] for s in mine.schools] == ["S1"]
    assert [s["school_code"] for s in everyone.schools] == ["S1", "S3"]


@pytest.mark.parametrize("kind", ["verdict", "ledger"])
def test_decision_page_offers_the_correction_of_its_kind(client, users, data, kind):
    teacher = data["teacher"]
    if kind == "verdict":
        appeal = Appeal.objects.create(teacher=teacher, school=teacher.school, kind="verdict", year=2026, reason="r",
                                       submitted_at=timezone.now())
    else:
        row = LedgerEntry.objects.get(teacher=teacher)
        appeal = Appeal.objects.create(teacher=teacher, school=teacher.school, kind="ledger", ledger_entry=row,
                                       reason="r", submitted_at=timezone.now())
    client.force_login(users["bureau"])
    page = client.get(reverse("training:appeal-decide", args=[appeal.pk])).content.decode()
    assert 'name="hours"' in page and 'name="grade"' not in page
    assert ('name="reverse_entry"' in page) == (kind == "ledger")


def test_report_page_with_a_schools_decided_appeals(client, users, data, city):
    appeal_decide(appeal=data["appeal"], uphold=False, reason="维持原结果", actor=users["bureau"], now=timezone.now())
    client.force_login(users["district"])
    page = client.get(reverse("training:appeals-report"), {"school": city["schools"][0].pk}).content.decode()
    assert 'id="decided-appeals"' in page and "维持原结果" in page
    other = client.get(reverse("training:appeals-report"), {"school": city["schools"][2].pk})
    assert other.status_code == 404
