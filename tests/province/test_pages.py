"""The province report as a background export (bureau.ExportJob, kind "province"): bureau staff and
auditors start it on its page, the shared Celery job builds it with a progress bar, the 导出文件 pages list it
and download it; district staff, principals and teachers get 403; full 身份证号 only for the permitted (SEC-3)."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bureau.exports import STALE_AFTER, export_run, exports_sweep
from bureau.models import AuditEntry, ExportJob, School
from bureau.services import user_assign_role
from credits.compliance import ComplianceRun
from province import export_jobs, services
from province.exports import write_province_workbook
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


def a_job(user, *, full=False):
    """A finished province job of `user` with a stored file."""
    job = ExportJob.objects.create(kind="province", title=f"{YEAR} 年度上报省厅报表", created_by=user,
                                   params={"year": YEAR, "with_id_numbers": full}, status="done", progress=100,
                                   filename=f"province-{YEAR}.xlsx", finished_at=timezone.now())
    job.file.save(f"province-{job.pk}.xlsx", ContentFile(b"PK-test"), save=True)
    return job


def job_codes(client, job):
    return [client.get(reverse(name, args=[job.pk])).status_code
            for name in ("export-detail", "export-progress", "export-download")]


@pytest.mark.parametrize("role", [*ROLES, "keeper", "superuser"])
def test_province_page_per_role(client, people, role, django_assert_max_num_queries):
    a_job(people["bureau"])
    login(client, people, role)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("province:reports"))
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in ALLOWED:
        assert response.status_code == 200 and "上报省厅报表" in response.content.decode()
        assert f'href="{reverse("exports")}"' in response.content.decode()  # the 导出文件 page opens for them
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", [*ROLES, "keeper", "superuser"])
def test_start_per_role(client, people, role):
    login(client, people, role)
    response = client.post(reverse("province:report-start"), {"year": YEAR})
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in ALLOWED:
        job = ExportJob.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse("export-detail", args=[job.pk])
        assert (job.kind, job.params, job.created_by) == (
            "province", {"year": YEAR, "with_id_numbers": role in ("keeper", "superuser")}, people[role])
    else:
        assert response.status_code == 403
    if role not in ALLOWED:
        assert not ExportJob.objects.exists()


def test_the_start_page_answers_only_post(client, people):
    client.force_login(people["bureau"])
    assert client.get(reverse("province:report-start"), {"year": YEAR}).status_code == 405
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("role", [*ROLES, "keeper", "superuser"])
def test_progress_and_download_pages_of_a_masked_job_per_role(client, people, role):
    """The starter and bureau staff open it (the 导出文件 rule); an auditor who did not start it gets 404,
    district staff and principals 404 (their 导出文件 pages open, the job is not theirs), teachers 403."""
    job = a_job(people["bureau"])
    login(client, people, role)
    codes = job_codes(client, job)
    expected = {"anonymous": 302, "bureau": 200, "keeper": 200, "superuser": 200, "auditor": 404, "district": 404,
                "principal": 404, "teacher": 403}[role]
    assert codes == [expected] * 3, codes


@pytest.mark.parametrize("role", ["bureau", "auditor", "keeper"])
def test_job_reaches_100_is_listed_and_downloads(client, people, role, django_capture_on_commit_callbacks):
    login(client, people, role)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("province:report-start"), {"year": YEAR})
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("export-detail", args=[job.pk])
    assert client.get(reverse("export-progress", args=[job.pk])).json() == {
        "status": "done", "progress": 100, "error": ""}
    job.refresh_from_db()
    assert job.rows == 4  # the teachers of the compliance run
    download_url = reverse("export-download", args=[job.pk])
    for page in ("exports", "province:reports"):  # listed, with its download link, on both pages
        assert f'href="{download_url}"' in client.get(reverse(page)).content.decode(), page
    download = client.get(download_url)
    assert download.status_code == 200
    suffix = "-full" if role == "keeper" else ""
    assert f"province-{YEAR}{suffix}.xlsx" in download["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert book.sheetnames[:5] == ["教师", "项目", "覆盖", "交流", "骨干"]
    a1 = next(r for r in book["教师"].iter_rows(min_row=2, values_only=True) if r[0] == "A1")
    assert (a1[2] == A1_ID) is (role == "keeper")  # SEC-3: full only with the permission
    assert job.params["with_id_numbers"] is (role == "keeper")
    released = AuditEntry.objects.filter(action="province.report.id_numbers_exported", actor=people[role])
    assert released.exists() is (role == "keeper")
    if role == "keeper":
        assert released.get().data == {"year": YEAR, "target": f"bureau.exportjob:{job.pk}"}


def test_progress_moves_every_n_teachers(province_city, monkeypatch):
    monkeypatch.setattr("province.exports.PROGRESS_EVERY", 1)
    job = services.report_start(year=YEAR, actor=province_city["clerk"])
    seen = []
    assert export_jobs.build_province(job, io.BytesIO(), seen.append) == 4
    assert seen == pytest.approx([0.05, 0.275, 0.5, 0.725, 0.95])  # start, then each of 4 teachers
    job = export_run(job_id=job.pk)
    assert (job.status, job.progress, job.rows) == ("done", 100, 4)


def test_full_job_hidden_from_who_may_not_see_it(client, people):
    """SEC-3: a job with full 身份证号 is 404 and unlisted for whoever may not see them, bureau staff
    included, and for its own starter once the permission is taken away."""
    keeper = people["keeper"]
    full = a_job(keeper, full=True)
    for role, code in [("bureau", 404), ("auditor", 404), ("keeper", 200), ("superuser", 200)]:
        client.force_login(people[role])
        assert job_codes(client, full) == [code] * 3, role
    client.force_login(keeper)
    assert full in client.get(reverse("exports")).context["jobs"]
    assert full in client.get(reverse("province:reports")).context["jobs"]
    keeper.user_permissions.remove(Permission.objects.get(codename="view_full_id_number"))
    client.force_login(type(keeper).objects.get(pk=keeper.pk))
    assert job_codes(client, full) == [404] * 3
    assert full not in client.get(reverse("exports")).context["jobs"]
    assert full not in client.get(reverse("province:reports")).context["jobs"]
    assert full not in client.get(reverse("credits:reports")).context["export_jobs"]


def test_no_file_with_full_numbers_when_the_permission_went_before_the_build(province_city):
    keeper = full_id_user()
    job = services.report_start(year=YEAR, actor=keeper)
    assert job.params["with_id_numbers"] is True
    keeper.user_permissions.remove(Permission.objects.get(codename="view_full_id_number"))
    job = export_run(job_id=job.pk)
    assert job.status == "failed" and "权限" in job.error and not job.file


def test_who_may_not_start_it_gets_a_chinese_error_from_the_service(people):
    for role in ("district", "principal", "teacher"):
        with pytest.raises(services.ApplicationError, match="只有市教育局和审计人员"):
            services.report_start(year=YEAR, actor=people[role])
    assert not ExportJob.objects.exists()
    assert not AuditEntry.objects.filter(action="province.report.id_numbers_exported").exists()


def test_failed_build_is_marked_and_sweeper_requeues(province_city, monkeypatch):
    job = services.report_start(year=YEAR, actor=province_city["clerk"])

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_jobs, "write_province_workbook", boom)
    with pytest.raises(RuntimeError):
        export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "RuntimeError" in job.error and not job.file
    stuck = services.report_start(year=YEAR, actor=province_city["clerk"])
    queued = []
    later = timezone.now() + STALE_AFTER * 2
    assert exports_sweep(now=later, queue=queued.append) == [stuck.pk] == queued
    assert exports_sweep(now=later, queue=queued.append) == []  # claimed once


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
    assert not ExportJob.objects.exists()
