"""The province report pages and job: bureau staff and auditors build it (Celery job with a progress bar)
and download it; district staff, principals and teachers get 403; full 身份证号 only for the permitted."""

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from bureau.models import AuditEntry, School
from bureau.services import user_assign_role
from credits.compliance import ComplianceRun
from credits.models import ReportStatus
from province import reports
from province.exports import write_province_workbook
from province.models import ProvinceReport
from tests.factories import TeacherFactory, UserFactory
from tests.province.conftest import A1_ID, YEAR, full_id_user, post

ROLES = ["anonymous", "bureau", "district", "principal", "teacher", "auditor"]
ALLOWED = {"bureau", "auditor", "superuser", "keeper"}


@pytest.fixture
def people(province_city):
    a1 = province_city["teachers"]["A1"]
    school = a1.school
    made = {"bureau": province_city["clerk"]}
    for role, kwargs in [("district", {"district": school.district}), ("principal", {"school": school}),
                         ("teacher", {"teacher": a1}), ("auditor", {})]:
        user = UserFactory(username=role)
        user_assign_role(user=user, role=role, actor=None, **kwargs)
        made[role] = user
    made["keeper"] = full_id_user()
    made["superuser"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    return made


def login(client, people, role):
    if role != "anonymous":
        client.force_login(people[role])


def a_report(**over):
    values = dict(year=YEAR, status=ReportStatus.DONE, progress=100)
    values.update(over)
    report = ProvinceReport.objects.create(**values)
    report.workbook.save(f"p-{report.pk}.xlsx", ContentFile(b"PK-test"), save=True)
    return report


@pytest.mark.parametrize("role", ROLES)
def test_list_page_per_role(client, people, role, django_assert_max_num_queries):
    a_report()
    login(client, people, role)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("province:reports"))
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in ALLOWED:
        assert response.status_code == 200 and "上报省厅报表" in response.content.decode()
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_start_detail_progress_download_per_role(client, people, role):
    report = a_report()
    login(client, people, role)
    urls = [reverse("province:report-detail", args=[report.pk]), reverse("province:report-progress", args=[report.pk]),
            reverse("province:report-download", args=[report.pk])]
    codes = [client.get(url).status_code for url in urls] + [
        client.post(reverse("province:report-start"), {"year": YEAR}).status_code]
    if role == "anonymous":
        assert codes == [302] * 4
    elif role in ALLOWED:
        assert codes == [200, 200, 200, 302]
    else:
        assert codes == [403] * 4
        assert ProvinceReport.objects.count() == 1


@pytest.mark.parametrize("role", ["bureau", "auditor", "keeper"])
def test_job_reaches_100_and_downloads(client, people, role, django_capture_on_commit_callbacks):
    login(client, people, role)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("province:report-start"), {"year": YEAR})
    report = ProvinceReport.objects.get()
    assert response["Location"] == reverse("province:report-detail", args=[report.pk])
    assert client.get(reverse("province:report-progress", args=[report.pk])).json() == {
        "status": "done", "progress": 100, "error": ""}
    download = client.get(reverse("province:report-download", args=[report.pk]))
    assert download.status_code == 200
    assert f"province-{YEAR}" in download["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    a1 = next(r for r in book["教师"].iter_rows(min_row=2, values_only=True) if r[0] == "A1")
    assert (a1[2] == A1_ID) is (role == "keeper")  # SEC-3: full only with the permission
    assert report.with_id_numbers is (role == "keeper")
    assert AuditEntry.objects.filter(action="province.report.id_numbers_exported", actor=people[role]).exists() is (
        role == "keeper")


def test_progress_moves_every_n_teachers(province_city, monkeypatch, settings):
    monkeypatch.setattr("province.exports.PROGRESS_EVERY", 1)
    seen = []
    report = reports.report_start(year=YEAR, actor=province_city["clerk"])
    original = reports._progress

    def spy(report_id, fraction):
        seen.append(fraction)
        original(report_id, fraction)

    monkeypatch.setattr(reports, "_progress", spy)
    reports.report_build(report_id=report.pk)
    report.refresh_from_db()
    assert len(seen) == 1 + 4 and seen == sorted(seen) and seen[-1] < 1  # start, then each of 4 teachers
    assert (report.status, report.progress, report.teachers) == ("done", 100, 4)


def test_full_report_hidden_from_who_may_not_see_it(client, people):
    full = a_report(with_id_numbers=True)
    for role, code in [("bureau", 404), ("auditor", 404), ("keeper", 200), ("superuser", 200)]:
        client.force_login(people[role])
        assert client.get(reverse("province:report-download", args=[full.pk])).status_code == code
        listed = client.get(reverse("province:reports")).context["reports"]
        assert (full in listed) is (code == 200)


def test_failed_build_is_marked_and_sweeper_requeues(province_city, monkeypatch):
    from django.utils import timezone

    report = reports.report_start(year=YEAR, actor=province_city["clerk"])

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(reports, "write_province_workbook", boom)
    with pytest.raises(RuntimeError):
        reports.report_build(report_id=report.pk)
    report.refresh_from_db()
    assert (report.status, report.error) == ("failed", "RuntimeError")
    stuck = reports.report_start(year=YEAR, actor=province_city["clerk"])
    queued = []
    later = timezone.now() + reports.STALE_AFTER * 2
    assert reports.reports_sweep(now=later, queue=queued.append) == [stuck.pk] == queued
    assert reports.reports_sweep(now=later, queue=queued.append) == []  # claimed once


def grow(n, start):
    school = School.objects.get(code="S2")
    for i in range(n):
        teacher = TeacherFactory(staff_no=f"G{start + i:04d}", school=school)
        post(teacher, f"g:{start + i}", dt.date(YEAR, 6, 1), 4, "school_based", mode="校本研修")


def queries_of_a_build():
    with CaptureQueriesContext(connection) as captured:
        with ComplianceRun(YEAR) as run:
            write_province_workbook(io.BytesIO(), run, full_id_numbers=False)
    return len(captured)


def test_queries_do_not_grow_with_teachers(province_city):
    grow(3, 0)
    small = queries_of_a_build()
    grow(40, 100)
    assert queries_of_a_build() == small != 0 and small < 30, small


@pytest.mark.parametrize("year", ["abc", "99999", "0"])
def test_bad_year_answers_400(client, people, year):
    client.force_login(people["bureau"])
    assert client.get(reverse("province:reports"), {"year": year}).status_code == 400
    assert client.post(reverse("province:report-start"), {"year": year}).status_code == 400
    assert not ProvinceReport.objects.exists()
