"""The organiser's session, attendance, results-grid and import pages: per role, per scope, query counts,
and what one POST saves."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import TeacherFactory
from tests.xlsx import xlsx_bytes
from training.attendance import attendance_record, project_min_attendance_set
from training.models import Attendance, Enrolment, Result, Session

from .attendance_fixtures import RESULT_HEADERS, TODAY, day, enrolment_of, owned, session_of  # noqa: F401

PROJECT_PAGES = ["training:sessions", "training:attendance-overview", "training:results-grid"]


def page_url(name, project):
    if name == "training:session-attendance":
        return reverse(name, args=[session_of(project, -20).pk])
    return reverse(name, args=[project.pk])


ALL_PAGES = PROJECT_PAGES + ["training:session-attendance"]


@pytest.mark.parametrize("name", ALL_PAGES)
@pytest.mark.parametrize("role, code, status", [
    ("bureau", "B2", 200), ("bureau", "C1", 200),
    ("district", "X1", 200), ("district", "X2", 404), ("district", "B1", 404), ("district", "C1", 404),
    ("principal", "B1", 200), ("principal", "B2", 404), ("principal", "X1", 404),
    ("teacher", "B1", 403), ("auditor", "C1", 403),
])
def test_project_pages_per_role(client, users, owned, name, role, code, status):
    client.force_login(users[role])
    assert client.get(page_url(name, owned[code])).status_code == status


@pytest.mark.parametrize("name", ALL_PAGES + ["training:attendance-import", "training:results-import"])
def test_anonymous_goes_to_the_login_page(client, owned, name):
    url = reverse(name) if name.endswith("-import") else page_url(name, owned["B1"])
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("name", ["training:attendance-import", "training:results-import"])
@pytest.mark.parametrize("role, status", [("bureau", 200), ("district", 200), ("principal", 200), ("teacher", 403),
                                          ("auditor", 403)])
def test_import_pages_per_role(client, users, name, role, status):
    client.force_login(users[role])
    assert client.get(reverse(name)).status_code == status


@pytest.mark.parametrize("role, code", [("district", "X2"), ("principal", "B2"), ("teacher", "B1"), ("auditor", "B1")])
def test_posts_outside_scope_write_nothing(client, users, owned, role, code):
    client.force_login(users[role])
    project = owned[code]
    session = session_of(project, -20)
    assert client.post(reverse("training:sessions", args=[project.pk]),
                       {"held_on": f"{day(-1):%Y-%m-%d}"}).status_code in (403, 404)
    assert client.post(reverse("training:session-remove", args=[session.pk])).status_code in (403, 404)
    assert client.post(reverse("training:session-attendance", args=[session.pk]), {}).status_code in (403, 404)
    assert client.post(reverse("training:results-grid", args=[project.pk]), {}).status_code in (403, 404)
    assert Session.objects.filter(project=project).count() == 3 and not Attendance.objects.exists()


def _grow_roster(project, school, n):
    for i in range(n):
        teacher = TeacherFactory(staff_no=f"N{project.code}{i:03d}", school=school)
        Enrolment.objects.create(project=project, teacher=teacher, state="approved")


@pytest.mark.parametrize("name", ALL_PAGES)
def test_page_query_counts_do_not_grow_with_the_roster(client, users, owned, city, name,
                                                       django_assert_max_num_queries):
    client.force_login(users["principal"])
    project = owned["B1"]
    with django_assert_max_num_queries(15) as small:
        assert client.get(page_url(name, project)).status_code == 200
    _grow_roster(project, city["schools"][0], 30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(page_url(name, project)).status_code == 200


# --- sessions page ------------------------------------------------------------------------------------


def test_principal_adds_removes_sessions_and_sets_the_minimum(client, users, owned):
    client.force_login(users["principal"])
    project = owned["B1"]
    url = reverse("training:sessions", args=[project.pk])
    client.post(url, {"action": "add", "held_on": f"{day(-2):%Y-%m-%d}", "title": "听课"})
    assert Session.objects.filter(project=project, held_on=day(-2), title="听课").exists()
    response = client.post(url, {"action": "add", "held_on": f"{day(60):%Y-%m-%d}"}, follow=True)
    assert "场次日期应在培训时间内" in response.content.decode()
    client.post(url, {"action": "min_rate", "min_attendance_rate": "80"})
    project.refresh_from_db()
    assert project.min_attendance_rate == 80
    client.post(url, {"action": "min_rate", "min_attendance_rate": ""})
    project.refresh_from_db()
    assert project.min_attendance_rate is None
    session = Session.objects.get(project=project, title="听课")
    client.post(reverse("training:session-remove", args=[session.pk]))
    assert not Session.objects.filter(pk=session.pk).exists()


# --- attendance page ----------------------------------------------------------------------------------


def test_attendance_page_defaults_to_all_present_and_saves_the_whole_list(client, users, owned):
    client.force_login(users["principal"])
    project = owned["B1"]
    session = session_of(project, -20)
    url = reverse("training:session-attendance", args=[session.pk])
    page = client.get(url).content.decode()
    assert page.count("checked") == 2 and "默认全部出勤" in page
    t1 = enrolment_of(project, "T1")
    response = client.post(url, {"present": [str(t1.pk)]}, follow=True)
    assert "考勤已保存：出勤 1 人，变更 2 条" in response.content.decode()
    assert dict(Attendance.objects.values_list("enrolment__teacher__staff_no", "present")) == {"T1": True, "T4": False}
    response = client.post(url, {"present": [str(t1.pk)]}, follow=True)
    assert "变更 0 条" in response.content.decode()
    page = client.get(url).content.decode()
    assert page.count("checked") == 1


def test_attendance_page_refuses_another_projects_enrolment(client, users, owned):
    client.force_login(users["bureau"])
    session = session_of(owned["B1"], -20)
    foreign = enrolment_of(owned["C1"], "T1")
    response = client.post(reverse("training:session-attendance", args=[session.pk]), {"present": [str(foreign.pk)]})
    assert "不属于本项目的参训名单" in response.content.decode()
    assert not Attendance.objects.exists()


def test_overview_shows_rates_and_the_no_show_list(client, users, owned):
    client.force_login(users["principal"])
    project = owned["B1"]
    attendance_record(session=session_of(project, -20), present_ids=[enrolment_of(project, "T1").pk],
                      actor=users["principal"], today=TODAY)
    page = client.get(reverse("training:attendance-overview", args=[project.pk])).content.decode()
    rates = page[page.index('id="attendance-rates"'):page.index('id="no-shows"')]
    no_shows = page[page.index('id="no-shows"'):]
    assert "1/2" in rates and "50%" in rates
    assert "赵四" in no_shows and "张一" not in no_shows


def test_teacher_sees_own_attendance_rate_in_the_portal(client, users, owned):
    project = owned["B1"]
    attendance_record(session=session_of(project, -20), present_ids=[enrolment_of(project, "T1").pk],
                      actor=users["principal"], today=TODAY)
    client.force_login(users["teacher"])
    page = client.get(reverse("training:projects")).content.decode()
    assert "出勤率 50%（1/2 场）" in page


# --- results grid -------------------------------------------------------------------------------------


def grid_post(project, values):
    data = {}
    for staff_no, (grade, done, hours) in values.items():
        pk = enrolment_of(project, staff_no).pk
        data.update({f"grade-{pk}": grade, f"done-{pk}": done, f"hours-{pk}": hours})
    return data


def test_results_grid_saves_every_row_through_result_record(client, users, owned):
    client.force_login(users["principal"])
    project = owned["B1"]
    url = reverse("training:results-grid", args=[project.pk])
    done = f"{TODAY:%Y-%m-%d}"
    client.post(url, grid_post(project, {"T1": ("优秀", done, ""), "T4": ("合格", done, "12")}))
    results = {r.enrolment.teacher.staff_no: r for r in Result.objects.select_related("enrolment__teacher")}
    assert (results["T1"].grade, results["T4"].certified_hours) == ("优秀", 12)
    assert results["T1"].recorded_by == users["principal"]
    response = client.post(url, grid_post(project, {"T1": ("优秀", done, ""), "T4": ("合格", done, "12")}), follow=True)
    assert "没有需要保存的变更" in response.content.decode()


def test_results_grid_says_which_results_wait_as_amendments_in_a_closed_year(client, users, owned):
    """CR-9 (amended): a result dated in a closed year is saved; its credits wait as 补报."""
    from credits.models import Amendment, ComplianceReport, LedgerEntry

    ComplianceReport.objects.create(year=TODAY.year, kind="closed", status="done")
    client.force_login(users["principal"])
    project = owned["B1"]
    response = client.post(reverse("training:results-grid", args=[project.pk]),
                           grid_post(project, {"T1": ("合格", f"{TODAY:%Y-%m-%d}", "")}), follow=True)
    assert "其中 1 人的完成日期属于已关账年度" in response.content.decode()
    assert not LedgerEntry.objects.exists() and Amendment.objects.get().state == "pending"


def test_results_grid_refuses_the_whole_page_when_a_row_is_below_the_minimum(client, users, owned):
    client.force_login(users["principal"])
    project = owned["B1"]
    project_min_attendance_set(project=project, rate=50, actor=users["principal"])
    attendance_record(session=session_of(project, -20), present_ids=[enrolment_of(project, "T1").pk],
                      actor=users["principal"], today=TODAY)
    done = f"{TODAY:%Y-%m-%d}"
    response = client.post(reverse("training:results-grid", args=[project.pk]),
                           grid_post(project, {"T1": ("合格", done, ""), "T4": ("合格", done, "")}))
    page = response.content.decode()
    assert "赵四：出勤率 0% 低于项目要求的 50%" in page and "本页未保存任何结果" in page
    assert not Result.objects.exists()


@pytest.mark.parametrize("row, message", [
    (("合格", "", ""), "完成日期不能为空"),
    (("良好", "2026-01-01", ""), "不是允许的考核结果"),
    (("合格", "2026-13-01", ""), "不是有效日期"),
    (("合格", "2026-01-01", "-3"), "认定学时应大于 0"),
    (("合格", "2026-01-01", "很多"), "不是数字"),
])
def test_results_grid_row_errors(client, users, owned, row, message):
    client.force_login(users["principal"])
    project = owned["B1"]
    response = client.post(reverse("training:results-grid", args=[project.pk]), grid_post(project, {"T1": row}))
    assert message in response.content.decode()
    assert not Result.objects.exists()


def test_results_grid_never_clears_a_recorded_result(client, users, owned):
    client.force_login(users["principal"])
    project = owned["B1"]
    url = reverse("training:results-grid", args=[project.pk])
    client.post(url, grid_post(project, {"T1": ("合格", f"{TODAY:%Y-%m-%d}", "")}))
    response = client.post(url, grid_post(project, {"T1": ("", "", "")}))
    assert "不能清空" in response.content.decode()
    assert Result.objects.get().grade == "合格"


# --- results import page ------------------------------------------------------------------------------


def upload(rows):
    return SimpleUploadedFile("results.xlsx", xlsx_bytes(RESULT_HEADERS, rows).getvalue(),
                             content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def test_district_previews_then_imports_its_own_results(client, users, owned):
    client.force_login(users["district"])
    url = reverse("training:results-import")
    done = f"{TODAY:%Y-%m-%d}"
    rows = [["X1", "T1", "张一", "合格", done, None], ["B1", "T1", "张一", "合格", done, None]]
    preview = client.post(url, {"file": upload(rows)})
    page = preview.content.decode()
    assert "第3行 项目编号: “B1”不是您主办的项目，不能导入其考核结果" in page
    assert not Result.objects.exists()
    response = client.post(url, {"token": preview.context["token"], "filename": "results.xlsx", "skip_invalid": "1"},
                           follow=True)
    assert "导入完成" in response.content.decode()
    assert list(Result.objects.values_list("enrolment__project__code", flat=True)) == ["X1"]


def test_import_page_refuses_a_file_that_is_not_xlsx(client, users):
    client.force_login(users["principal"])
    response = client.post(reverse("training:attendance-import"),
                           {"file": SimpleUploadedFile("a.xlsx", b"not a workbook")})
    assert "不是 xlsx 格式" in response.content.decode()
