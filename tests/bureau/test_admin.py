"""The admin as bureau clerks use it: SEC-3 masking of the 身份证号, edits that go through services,
the import pages (upload, preview, confirm), role assignment, and a changelist whose query count does
not grow with the rows. Who may open which page is test_scoping.py's matrix."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bureau.choices import PostingKind
from bureau.models import AuditEntry, Posting, Profile, School, Teacher
from tests.bureau.test_scoping import change_form_data, login_as, org, page_url  # noqa: F401 (org: a fixture)
from tests.factories import TeacherFactory, UserFactory, make_id_number
from tests.xlsx import TEACHER_HEADERS, xlsx_bytes

# --- SEC-3: the ID-card number ---------------------------------------------------------------------

T1_BIRTH = dt.date(1985, 3, 14)


@pytest.fixture
def t1_id(org):
    """T1 (a woman born 1985-03-14, as the factory makes her) with a valid 身份证号."""
    number = make_id_number(T1_BIRTH, male=False, serial=7)
    org["T1"].id_number = number
    org["T1"].save()
    return number


@pytest.fixture
def full_id_clerk(users):
    """A bureau user granted the per-user permission to see full ID-card numbers."""
    user = users["bureau"]
    user.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    return user


TEACHER_PAGES = ["teacher changelist", "teacher change T1", "teacher history T1", "teacher version T1"]


@pytest.mark.parametrize("page", TEACHER_PAGES)
@pytest.mark.parametrize("role", ["bureau", "district", "principal", "auditor"])
def test_sec3_id_number_is_masked_for_roles_without_permission(client, users, org, t1_id, role, page):
    response = login_as(client, users, role).get(page_url(page, org))
    assert response.status_code == 200
    html = response.content.decode()
    assert t1_id not in html
    # Nor its hidden middle digits in any other spelling (e.g. a value="" attribute).
    assert t1_id[6:14] not in html
    if page in ("teacher changelist", "teacher change T1"):
        assert t1_id[0] + "*" * 16 + t1_id[-1] in html
        assert t1_id[:6] not in html and t1_id[-4:] not in html


@pytest.mark.parametrize("who", ["superuser", "full_id_clerk"])
def test_sec3_full_id_number_on_change_page_only_with_permission(client, users, org, t1_id, full_id_clerk, who):
    user = full_id_clerk if who == "full_id_clerk" else users["superuser"]
    client.force_login(user)
    response = client.get(page_url("teacher change T1", org))
    assert response.status_code == 200
    assert "id_number" in response.context["adminform"].form.fields
    assert f'value="{t1_id}"' in response.content.decode()


def test_sec3_permission_alone_is_not_enough_outside_bureau(client, users, org, t1_id):
    """The permission is granted per bureau user; given to a district user by mistake it shows nothing."""
    district = users["district"]
    district.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    response = login_as(client, users, "district").get(page_url("teacher change T1", org))
    assert t1_id not in response.content.decode()


def test_bureau_group_does_not_hold_full_id_permission(users):
    assert not users["bureau"].has_perm("bureau.view_full_id_number")


def test_district_change_form_post_keeps_id_number(client, users, org, t1_id):
    client = login_as(client, users, "district")
    url = page_url("teacher change T1", org)
    data = change_form_data(client.get(url))
    data.update(subject="数学", id_number="")  # a forged empty field must not erase the number
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    t1 = Teacher.objects.get(pk=org["T1"].pk)
    assert (t1.subject, t1.id_number) == ("数学", t1_id)


def test_full_id_clerk_can_correct_id_number(client, users, org, t1_id, full_id_clerk):
    client.force_login(full_id_clerk)
    url = page_url("teacher change T1", org)
    corrected = make_id_number(T1_BIRTH, male=False, serial=8)
    data = change_form_data(client.get(url))
    data["id_number"] = corrected
    response = client.post(url, data)
    assert response.status_code == 302
    assert Teacher.objects.get(pk=org["T1"].pk).id_number == corrected


def test_admin_refuses_an_id_number_with_a_wrong_check_digit(client, users, org, t1_id, full_id_clerk):
    client.force_login(full_id_clerk)
    url = page_url("teacher change T1", org)
    data = change_form_data(client.get(url))
    good = make_id_number(T1_BIRTH, male=False, serial=8)
    data["id_number"] = good[:-1] + ("1" if good[-1] != "1" else "2")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "校验位错误" in str(response.context["adminform"].form.errors["id_number"])
    assert Teacher.objects.get(pk=org["T1"].pk).id_number == t1_id


def test_only_bureau_ties_a_login_account_in_the_teacher_form(client, users, org):
    district_form = login_as(client, users, "district").get(page_url("teacher change T1", org)).context["adminform"].form
    assert "user" not in district_form.fields
    client.force_login(users["bureau"])
    assert "user" in client.get(page_url("teacher change T1", org)).context["adminform"].form.fields


# --- admin edits go through services ----------------------------------------------------------------


def test_district_moving_teacher_to_other_school_closes_and_opens_postings(client, users, org):
    client = login_as(client, users, "district")
    url = page_url("teacher change T1", org)
    data = change_form_data(client.get(url))
    data["school"] = org["S2"].pk
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    postings = list(Posting.objects.filter(teacher=org["T1"]).order_by("started_on", "pk"))
    assert [(p.school.code, p.kind, p.started_on, p.ended_on) for p in postings] == [
        ("S1", PostingKind.REGULAR, dt.date(2015, 9, 1), dt.date(2026, 3, 1)),
        ("S2", PostingKind.REGULAR, dt.date(2026, 3, 2), None),
    ]
    assert postings[1].created_by == users["district"]
    assert AuditEntry.objects.filter(action="bureau.posting.moved", actor=users["district"]).count() == 1


def test_district_teacher_school_choices_are_own_district_schools(client, users, org):
    response = login_as(client, users, "district").get(page_url("teacher change T1", org))
    choices = response.context["adminform"].form.fields["school"].queryset
    assert {s.code for s in choices} == {"S1", "S2"}


def test_district_cannot_move_teacher_to_school_outside_district(client, users, org):
    client = login_as(client, users, "district")
    url = page_url("teacher change T1", org)
    data = change_form_data(client.get(url))
    data["school"] = org["S3"].pk
    response = client.post(url, data)
    assert response.status_code == 200
    assert "school" in response.context["adminform"].form.errors
    assert Teacher.objects.get(pk=org["T1"].pk).school == org["S1"]
    assert Posting.objects.filter(teacher=org["T1"]).count() == 1


def response_field_choices(client, url, field):
    return client.get(url).context["adminform"].form.fields[field].queryset


def test_district_can_edit_own_school(client, users, org):
    client = login_as(client, users, "district")
    url = page_url("school change S1", org)
    data = change_form_data(client.get(url))
    data.update(name="东一小学（新址）", cluster=org["C1"].pk)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    school = School.objects.get(pk=org["S1"].pk)
    assert (school.name, school.cluster, school.district) == ("东一小学（新址）", org["C1"], org["D1"])


def test_district_cannot_move_school_to_other_district(client, users, org):
    client = login_as(client, users, "district")
    url = page_url("school change S1", org)
    data = change_form_data(client.get(url))
    assert {d.code for d in response_field_choices(client, url, "district")} == {"D1"}
    data["district"] = org["D2"].pk
    response = client.post(url, data)
    assert response.status_code == 200
    assert "district" in response.context["adminform"].form.errors
    assert School.objects.get(pk=org["S1"].pk).district == org["D1"]


def test_district_cannot_put_school_into_other_district_cluster(client, users, org):
    client = login_as(client, users, "district")
    url = page_url("school change S1", org)
    data = change_form_data(client.get(url))
    assert {c.name for c in response_field_choices(client, url, "cluster")} == {"城东片区"}
    data["cluster"] = org["C2"].pk
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cluster" in response.context["adminform"].form.errors


def test_district_adding_teacher_opens_first_posting(client, users, org):
    client = login_as(client, users, "district")
    data = {
        "staff_no": "T9",
        "name": "赵九",
        "gender": "女",
        "birth_date": "1990-01-02",
        "school": org["S2"].pk,
        "subject": "英语",
        "title": "二级教师",
        "education": "本科",
        "employed_on": "2012-09-01",
        "joined_school_on": "2018-09-01",
        "employment_type": "在编",
        "status": "在职",
        "postings-TOTAL_FORMS": "0",
        "postings-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:bureau_teacher_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    teacher = Teacher.objects.get(staff_no="T9")
    (posting,) = Posting.objects.filter(teacher=teacher)
    assert (posting.school, posting.started_on, posting.ended_on) == (org["S2"], dt.date(2018, 9, 1), None)


# --- the import page (SPEC §7 through the admin) ---------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def teacher_row(**over):
    values = {
        "工号": "N001",
        "姓名": "周敏",
        "性别": "女",
        "出生日期": dt.date(1985, 3, 14),
        "身份证号": make_id_number(dt.date(1985, 3, 14), male=False, serial=21),
        "学校代码": "S1",
        "任教学科": "数学",
        "职称": "一级教师",
        "学历": "本科",
        "参加工作日期": dt.date(2007, 9, 1),
        "入校日期": dt.date(2015, 9, 1),
        "编制类型": "在编",
        "在职状态": "在职",
        "班主任": "是",
    }
    values.update(over)
    return [values[h] for h in TEACHER_HEADERS]


def upload(rows, name="teachers.xlsx"):
    return SimpleUploadedFile(
        name,
        xlsx_bytes(TEACHER_HEADERS, rows).getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


IMPORT_URL = "admin:bureau_teacher_import"


def stored_files(media):
    return [p for p in media.rglob("*") if p.is_file()]


def test_import_preview_writes_nothing_then_confirm_writes(client, users, org, media):
    client = login_as(client, users, "bureau")
    rows = [teacher_row(), teacher_row(工号="N002", 姓名="吴刚", 身份证号=None, 学校代码="S3")]
    preview = client.post(reverse(IMPORT_URL), {"file": upload(rows)})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "共 2 行：将新增 2，将更新 0，无变化 0，有错误 0 行。" in html
    assert "确认导入" in html
    assert not Teacher.objects.filter(staff_no__in=["N001", "N002"]).exists()
    assert not AuditEntry.objects.filter(action="bureau.teachers.imported").exists()
    assert len(stored_files(media)) == 1  # kept through the storage API until the confirmation

    token = preview.context["token"]
    confirm = client.post(reverse(IMPORT_URL), {"token": token, "filename": "teachers.xlsx", "confirm": "1"})
    assert confirm.status_code == 302
    assert confirm.url == reverse("admin:bureau_teacher_changelist")
    assert set(Teacher.objects.filter(staff_no__in=["N001", "N002"]).values_list("school__code", flat=True)) == {
        "S1",
        "S3",
    }
    assert Posting.objects.filter(teacher__staff_no="N001", ended_on__isnull=True).count() == 1
    assert AuditEntry.objects.get(action="bureau.teachers.imported").actor == users["bureau"]
    assert stored_files(media) == []


def test_import_invalid_file_lists_every_row_error_and_writes_nothing(client, users, org, media):
    client = login_as(client, users, "bureau")
    good_id = make_id_number(dt.date(1985, 3, 14), male=False, serial=33)
    bad_check_digit = good_id[:-1] + ("1" if good_id[-1] != "1" else "2")
    rows = [
        teacher_row(),
        teacher_row(工号="N002", 性别="未知"),
        teacher_row(工号="N003", 入校日期=dt.date(2000, 1, 1)),
        teacher_row(工号="N004", 身份证号=None),
        teacher_row(工号="N005", 身份证号=None, 学校代码="S404"),
        teacher_row(工号="N006", 身份证号=bad_check_digit),
    ]
    preview = client.post(reverse(IMPORT_URL), {"file": upload(rows)})
    html = preview.content.decode()
    expected = [
        "第3行 性别: “未知”不是允许的值，应为：男、女",
        "第4行 入校日期: 不能早于参加工作日期（2007-09-01）",
        "第6行 学校代码: “S404”学校不存在，请先导入学校",
        f"第7行 身份证号: 校验位错误，应为 {good_id[-1]}",
    ]
    assert [str(e) for e in preview.context["report"].errors] == expected
    for error in expected:
        assert f"<td>{error}</td>" in html
    assert "有错误 4 行。未写入任何数据。" in html
    assert bad_check_digit not in html
    assert "只导入有效行" in html and "确认导入" not in html
    assert not Teacher.objects.filter(staff_no__startswith="N").exists()
    token = preview.context["token"]

    # Confirming without skip_invalid still writes nothing.
    again = client.post(reverse(IMPORT_URL), {"token": token, "filename": "teachers.xlsx"})
    assert again.status_code == 200
    assert not Teacher.objects.filter(staff_no__startswith="N").exists()

    skip = client.post(reverse(IMPORT_URL), {"token": token, "filename": "teachers.xlsx", "skip_invalid": "1"})
    assert skip.status_code == 302
    assert set(Teacher.objects.filter(staff_no__startswith="N").values_list("staff_no", flat=True)) == {"N001", "N004"}


def test_district_import_of_teacher_outside_district_is_a_row_error(client, users, org, media):
    client = login_as(client, users, "district")
    rows = [teacher_row(), teacher_row(工号="N002", 身份证号=None, 学校代码="S3")]
    preview = client.post(reverse(IMPORT_URL), {"file": upload(rows)})
    assert preview.status_code == 200
    assert "第3行 学校代码: “S3”不在您的管辖范围" in preview.content.decode()
    skip = client.post(
        reverse(IMPORT_URL), {"token": preview.context["token"], "filename": "t.xlsx", "skip_invalid": "1"}
    )
    assert skip.status_code == 302
    assert list(Teacher.objects.filter(staff_no__startswith="N").values_list("staff_no", flat=True)) == ["N001"]


def test_district_import_cannot_update_teacher_outside_district(client, users, org, media):
    client = login_as(client, users, "district")
    preview = client.post(reverse(IMPORT_URL), {"file": upload([teacher_row(工号="T3", 姓名="王三", 身份证号=None)])})
    assert "第2行 工号: 该教师不在您的管辖范围" in preview.content.decode()


@pytest.mark.parametrize("role", ["principal", "auditor"])
@pytest.mark.parametrize("url_name", ["admin:bureau_teacher_import", "admin:bureau_school_import"])
def test_read_only_roles_cannot_upload_imports(client, users, org, media, role, url_name):
    response = login_as(client, users, role).post(reverse(url_name), {"file": upload([teacher_row()])})
    assert response.status_code == 403
    assert stored_files(media) == []
    assert not Teacher.objects.filter(staff_no="N001").exists()


def test_import_token_of_another_user_is_not_usable(client, users, org, media):
    """The stored upload is keyed by its uploader: another user's confirmation finds nothing."""
    bureau_client = login_as(client, users, "bureau")
    token = bureau_client.post(reverse(IMPORT_URL), {"file": upload([teacher_row()])}).context["token"]
    client.force_login(users["district"])
    response = client.post(reverse(IMPORT_URL), {"token": token, "filename": "teachers.xlsx", "confirm": "1"})
    assert response.status_code == 200
    assert "请选择要导入的 xlsx 文件" in response.content.decode()
    assert not Teacher.objects.filter(staff_no="N001").exists()


def test_import_bad_file_shows_one_error_and_keeps_nothing(client, users, org, media):
    client = login_as(client, users, "bureau")
    bad = SimpleUploadedFile("teachers.xlsx", "工号,姓名\nT1,张一\n".encode(), content_type="text/csv")
    response = client.post(reverse(IMPORT_URL), {"file": bad})
    assert response.status_code == 200
    assert response.context["file_error"]
    assert "report" not in response.context
    assert stored_files(media) == []


# --- PERF: the changelist's query count does not grow with the rows ---------------------------------

# Session, user, two permission lookups, profile, the district filter, the page count, the page itself.
CHANGELIST_MAX_QUERIES = 10


def changelist_queries(client, count):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("admin:bureau_teacher_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == count
    return len(captured)


@pytest.mark.parametrize("role", ["bureau", "district"])
def test_teacher_changelist_query_count_does_not_grow_with_rows(
    client, users, org, role, django_assert_max_num_queries
):
    client = login_as(client, users, role)
    TeacherFactory.create_batch(2, school=org["S1"])  # 5 teachers in the city, 4 of them in D1
    client.get(reverse("admin:bureau_teacher_changelist"))  # both counts with the signed-in user cached
    with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
        small = changelist_queries(client, 5 if role == "bureau" else 4)
    TeacherFactory.create_batch(55, school=org["S2"])  # 60 in the city: a full page of 50 for either role
    client.get(reverse("admin:bureau_teacher_changelist"))
    with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
        large = changelist_queries(client, 50)
    assert large == small


# --- roles are assigned through user_assign_role ---------------------------------------------------


def test_bureau_assigning_district_role_through_admin_sets_group_and_staff(client, users, org):
    newcomer = UserFactory(username="newcomer")
    client = login_as(client, users, "bureau")
    response = client.post(
        reverse("admin:bureau_profile_add"), {"user": newcomer.pk, "role": "district", "district": org["D2"].pk}
    )
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.is_staff and [g.name for g in newcomer.groups.all()] == ["区县教育局"]
    assert newcomer.profile.district == org["D2"]
    assert AuditEntry.objects.filter(action="bureau.role.assigned", actor=users["bureau"]).exists()


def test_teacher_role_without_teacher_is_a_form_error(client, users, org):
    newcomer = UserFactory(username="newcomer")
    response = login_as(client, users, "bureau").post(
        reverse("admin:bureau_profile_add"), {"user": newcomer.pk, "role": "teacher"}
    )
    assert response.status_code == 200
    assert "teacher" in response.context["adminform"].form.errors
    assert not Profile.objects.filter(user=newcomer).exists()


def test_saving_a_teacher_profile_unchanged_keeps_its_teacher(client, users, org):
    client = login_as(client, users, "bureau")
    url = reverse("admin:bureau_profile_change", args=[users["teacher"].profile.pk])
    response = client.post(url, change_form_data(client.get(url)))
    assert response.status_code == 302
    assert Teacher.objects.get(user=users["teacher"]) == org["T1"]


# --- SEC-6: a small file cannot make a large page; SEC-2: nothing oversized reaches storage ------------


def _hostile_xlsx(rows: int, cell: str, extra_columns: int = 0) -> bytes:
    """A small file: one long shared string repeated in every row's 性别 (invalid), as a hostile file would."""
    from openpyxl import Workbook

    book = Workbook()  # not write-only: repeated text goes to the shared-strings table once
    sheet = book.active
    sheet.append(TEACHER_HEADERS + [f"X{i}" for i in range(extra_columns)])
    base = [teacher_row(工号=f"H{i:05d}", 性别=cell, 身份证号=None) for i in range(rows)]
    for i, values in enumerate(base):
        sheet.append(values + ["x"] * extra_columns)
    import io

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_preview_of_a_small_hostile_file_is_capped(client, users, org, media):
    content = _hostile_xlsx(rows=1000, cell="毒" * 2000)  # uncapped, the page would be over 6 MB
    assert len(content) < 500_000  # a small file: one long string, shared by every row
    client = login_as(client, users, "bureau")
    preview = client.post(reverse(IMPORT_URL), {"file": SimpleUploadedFile("t.xlsx", content)})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "错误（共 1000 条，涉及 1000 行）" in html
    assert html.count("<tr><td>第") == 200  # at most 200 errors shown
    assert "另有 800 条错误未显示" in html
    assert "毒" * 51 not in html and "“" + "毒" * 50 + "…”" in html  # values cut to 50 characters
    assert len(preview.content) < 300_000


def test_the_command_quotes_long_cells_cut_to_50_characters(tmp_path, org, capsys):
    from django.core.management import CommandError, call_command

    path = tmp_path / "t.xlsx"
    path.write_bytes(_hostile_xlsx(rows=3, cell="毒" * 30000))
    with pytest.raises(CommandError):
        call_command("import_teachers", str(path))
    err = capsys.readouterr().err
    assert "毒" * 51 not in err and err.count("第") >= 3


def test_a_very_wide_file_is_refused_at_once(client, users, org, media, settings):
    """A few MB of rows thousands of cells wide took 179 s to read: refused before any reader parses it."""
    settings.IMPORT_MAX_COLUMNS = 100
    content = _hostile_xlsx(rows=20, cell="男", extra_columns=100)
    client = login_as(client, users, "bureau")
    preview = client.post(reverse(IMPORT_URL), {"file": SimpleUploadedFile("wide.xlsx", content)})
    assert "表格过宽：有一行超过 100 个单元格" in preview.content.decode()
    assert stored_files(media) == []
    narrow = _hostile_xlsx(rows=20, cell="男", extra_columns=100 - len(TEACHER_HEADERS))  # exactly 100 wide
    preview = client.post(reverse(IMPORT_URL), {"file": SimpleUploadedFile("ok.xlsx", narrow)})
    assert "共 20 行" in preview.content.decode()


def test_an_oversized_upload_is_refused_before_it_reaches_storage(client, users, org, media, settings):
    settings.IMPORT_MAX_BYTES = 1000
    client = login_as(client, users, "bureau")
    preview = client.post(reverse(IMPORT_URL), {"file": upload([teacher_row()] * 50)})
    assert "文件过大" in preview.content.decode()
    assert stored_files(media) == []


# --- SEC-3: a search by ID-card number is POSTed and held to the scope ---------------------------------


@pytest.mark.parametrize("role, staff_no, found", [
    ("bureau", "T1", True), ("district", "T1", True), ("principal", "T1", True), ("auditor", "T1", True),
    ("district", "T3", False), ("principal", "T2", False),
])
def test_find_by_id_number_is_posted_and_scoped(client, users, org, role, staff_no, found):
    teacher = org[staff_no]
    number = make_id_number(dt.date(1985, 3, 14), male=False, serial=41)
    Teacher.objects.filter(pk=teacher.pk).update(id_number=number)
    client = login_as(client, users, role)
    url = reverse("admin:bureau_teacher_find_by_id")
    assert client.get(url).status_code == 200
    response = client.post(url, {"id_number": number})
    unknown = client.post(url, {"id_number": make_id_number(dt.date(1990, 1, 1), male=True, serial=99)})
    if found:
        assert response.status_code == 302
        assert response.url == reverse("admin:bureau_teacher_change", args=[teacher.pk])
        assert number not in response.url
    else:  # outside the scope: the very same answer as a number nobody has
        assert response.status_code == unknown.status_code == 200
        assert "没有找到该身份证号的教师" in response.content.decode()
        assert response.content.decode().count("没有找到") == unknown.content.decode().count("没有找到")
    assert number not in unknown.content.decode() and number not in response.content.decode()


def test_teachers_have_no_find_by_id_page(client, users):
    client.force_login(users["teacher"])
    assert client.post(reverse("admin:bureau_teacher_find_by_id"), {"id_number": "1"}).status_code == 302  # to login
