"""CR-3 caps and CR-5 counted credits: at the caps' edges, in the rules and in the database alike, and
where a cap shows (portal, transcript, compliance workbook, API); the policy's new fields in the admin."""

import datetime as dt
import io
import itertools
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bureau.choices import Role
from bureau.services import user_assign_role
from credits import rules
from credits.compliance import ComplianceRun, Scope, school_figures
from credits.exports import write_compliance_workbook
from credits.models import LedgerEntry, Policy
from credits.posting import Posting, ledger_sync
from credits.selectors import teacher_year
from credits.services import ledger_reverse
from tests.factories import SchoolFactory, TeacherFactory, UserFactory

YEAR = 2026
DAY = dt.date(YEAR, 6, 1)
POLICY = rules.PolicyValues()
_keys = itertools.count(1)


def post(teacher, credits, *, source="training_result", mode="", day=DAY):
    """One ledger row of the given source and mode (through the one way into the ledger)."""
    (row,) = ledger_sync(source_key=f"test:{next(_keys)}", actor=None, reason="测试", wanted=Posting(
        teacher_id=teacher.pk, entry_date=day, hours=D(credits), credits=D(credits), source=source, mode=mode))
    return row


def self_study(teacher, credits, **kw):
    return post(teacher, credits, source="self_study", **kw)


def online(teacher, credits, **kw):
    return post(teacher, credits, mode="网络研修", **kw)


def figures(teacher, year=YEAR):
    """(counted, uncounted) from the city-wide run, the one-school query and the teacher's own query,
    which must agree."""
    with ComplianceRun(year) as run:
        (row,) = [t for t in run.teachers() if t.staff_no == teacher.staff_no]
    (one,) = [t for t in school_figures(year, teacher.school)[2] if t.staff_no == teacher.staff_no]
    own = teacher_year(teacher.pk, year)
    assert (row.annual_credits, row.uncounted) == (one.annual_credits, one.uncounted)
    assert (row.annual_credits, row.uncounted, row.compliant) == (own.annual_credits, own.uncounted_credits,
                                                                  own.compliant)
    return row.annual_credits, row.uncounted


# --- the rules, without a database ---------------------------------------------------------------------


def test_cr3_default_caps_and_daily_limit():
    assert (POLICY.self_study_cap, POLICY.online_cap, POLICY.daily_hours_limit) == (D("24"), None, D("8"))


@pytest.mark.parametrize("self_study, counted, uncounted", [
    (D("24.0"), D("72.0"), D("0")),  # the cap hit exactly counts whole
    (D("24.5"), D("72.0"), D("0.5")),  # one over: the half is not counted
    (D("23.99"), D("71.99"), D("0")),
    (D("-3"), D("45"), D("0")),  # a net reversal never "gives back" anything
])
def test_cr5_self_study_cap_edges(self_study, counted, uncounted):
    credits = rules.annual_credits(recorded=D("48") + self_study, self_study=self_study, online=D("0"), policy=POLICY)
    assert (credits.counted, credits.uncounted) == (counted, uncounted)


def test_cr5_no_online_cap_never_caps_and_a_set_one_does():
    assert rules.annual_credits(recorded=D("500"), self_study=D("0"), online=D("500"), policy=POLICY).uncounted == 0
    capped = rules.PolicyValues(online_cap=D("30"), self_study_cap=None)
    credits = rules.annual_credits(recorded=D("200"), self_study=D("100"), online=D("40"), policy=capped)
    assert (credits.self_study_over, credits.online_over, credits.counted) == (0, D("10"), D("190"))


def test_cr5_both_caps_add_up_and_a_row_counts_under_one_cap_only():
    policy = rules.PolicyValues(online_cap=D("10"))
    rows = [("self_study", "网络研修", D("30")), ("training_result", "网络研修", D("15")), ("training_result", "", D("40"))]
    credits = rules.annual_credits_of_rows(rows, policy)
    assert (credits.self_study, credits.online) == (D("30"), D("15"))  # the self-study row is not also online
    assert (credits.recorded, credits.uncounted, credits.counted) == (D("85"), D("11"), D("74"))


def test_cr5_a_reversal_lowers_the_kind_before_the_cap():
    rows = [("self_study", "", D("20")), ("self_study", "", D("10")), ("self_study", "", D("-10"))]
    credits = rules.annual_credits_of_rows(rows, POLICY)
    assert (credits.recorded, credits.uncounted, credits.counted) == (D("20"), 0, D("20"))


@pytest.mark.parametrize("already, adding, refused", [
    (D("0"), D("8"), False), (D("0"), D("8.5"), True), (D("5"), D("3"), False), (D("5"), D("4"), True),
])
def test_cr10_daily_limit_edges(already, adding, refused):
    refusal = rules.daily_hours_refusal(day=DAY, already=already, adding=adding, limit=D("8"))
    assert bool(refusal) is refused


def test_cr10_daily_limit_reason_in_chinese():
    assert rules.daily_hours_refusal(day=DAY, already=D("0"), adding=D("8.5"), limit=D("8.00")) == (
        "2026-06-01 申报 8.5 学时，超过每日上限 8 学时。")
    assert rules.daily_hours_refusal(day=DAY, already=D("5.00"), adding=D("4"), limit=D("8")) == (
        "2026-06-01 已申报 5 学时，加上本次 4 学时共 9 学时，超过每日上限 8 学时。")


# --- in the database ------------------------------------------------------------------------------


@pytest.fixture
def teacher(db):
    return TeacherFactory(staff_no="C1", school=SchoolFactory(code="CS"))


def test_cr5_self_study_cap_hit_exactly_counts_24(teacher):
    post(teacher, 48)
    self_study(teacher, 20)
    self_study(teacher, "4.0")
    assert figures(teacher) == (D("72"), 0)
    assert teacher_year(teacher.pk, YEAR).compliant


def test_cr5_one_over_the_cap_counts_24_and_shows_half_uncounted(teacher):
    post(teacher, "47.5")
    self_study(teacher, "24.5")  # 72 recorded, 71.5 counted: short by the cap alone
    assert figures(teacher) == (D("71.5"), D("0.5"))
    assert not teacher_year(teacher.pk, YEAR).compliant
    with ComplianceRun(YEAR) as run:
        assert run.summary().compliant == 0 and sum(1 for _ in run.teachers(only_capped=True)) == 1
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 2  # the rows stay


def test_cr5_a_reversal_brings_self_study_back_under_the_cap(teacher, users):
    post(teacher, 50)
    self_study(teacher, 20)
    extra = self_study(teacher, 10)
    assert figures(teacher) == (D("74"), D("6"))
    ledger_reverse(entry=extra, reason="重复申报", actor=users["bureau"])
    assert figures(teacher) == (D("70"), 0)


def test_cr5_blank_online_cap_never_caps_and_a_set_one_does(teacher):
    online(teacher, 100)
    assert figures(teacher) == (D("100"), 0)
    Policy.objects.create(year=YEAR, online_cap=D("60"))
    assert figures(teacher) == (D("60"), D("40"))


def test_cr5_blank_self_study_cap_never_caps(teacher):
    Policy.objects.create(year=YEAR, self_study_cap=None)
    self_study(teacher, 80)
    assert figures(teacher) == (D("80"), 0)


def test_cr3_caps_follow_the_policy_of_each_year(teacher):
    Policy.objects.create(year=YEAR - 1, self_study_cap=None)  # in force for YEAR too
    Policy.objects.create(year=YEAR + 1, self_study_cap=D("10"))  # not yet
    self_study(teacher, 30)
    self_study(teacher, 30, day=dt.date(YEAR + 1, 3, 1))
    self_study(teacher, 30, day=dt.date(YEAR - 1, 3, 1))
    assert figures(teacher) == (D("30"), 0)
    assert figures(teacher, YEAR + 1) == (D("10"), D("20"))
    assert figures(teacher, YEAR - 1) == (D("30"), 0)


def test_cr5_database_and_rules_agree_on_the_same_rows(db):
    policy = Policy.objects.create(year=YEAR, online_cap=D("15")).values()
    school = SchoolFactory(code="AG")
    cases = [
        [("self_study", "", "30"), ("training_result", "网络研修", "20"), ("training_result", "集中面授", "40")],
        [("self_study", "", "10"), ("self_study", "", "-10"), ("self_study", "", "24.01")],
        [("training_result", "网络研修", "15"), ("external_certificate", "网络研修", "0.01")],
        [],
    ]
    teachers = []
    for i, rows in enumerate(cases):
        teacher = TeacherFactory(staff_no=f"AG{i}", school=school)
        for source, mode, credits in rows:
            post(teacher, credits, source=source, mode=mode)
        teachers.append((teacher, rules.annual_credits_of_rows([(s, m, D(c)) for s, m, c in rows], policy)))
    with ComplianceRun(YEAR, scope=Scope(school_id=school.pk)) as run:
        rows = {t.staff_no: t for t in run.teachers()}
    for teacher, expected in teachers:
        assert (rows[teacher.staff_no].annual_credits, rows[teacher.staff_no].uncounted) == (
            expected.counted, expected.uncounted)


def test_workbook_keeps_the_section_7_sheets_and_adds_the_capped_teachers_after_them(teacher, tmp_path):
    post(teacher, "47.5")
    self_study(teacher, "24.5")
    TeacherFactory(staff_no="C2", school=teacher.school)
    path = tmp_path / "c.xlsx"
    with ComplianceRun(YEAR) as run:
        write_compliance_workbook(path, run)
    book = load_workbook(path)
    assert book.sheetnames == ["汇总", "区县", "学校", "教师", "超出上限未计", "说明"]
    teachers = [tuple(r) for r in book["教师"].iter_rows(values_only=True)]
    assert teachers[0] == ("工号", "姓名", "学校代码", "年度学分", "年度学时", "师德学时", "校本研修学时", "周期累计学时", "要求学分",
                           "是否达标", "师德达标", "校本达标", "周期应完成学时", "周期达标", "学校名称")
    assert teachers[1][:4] == ("C1", teacher.name, "CS", 71.5) and teachers[1][9] == "否"
    capped = [tuple(r) for r in book["超出上限未计"].iter_rows(values_only=True)]
    assert capped == [("工号", "姓名", "学校代码", "学校名称", "登记学分", "超出上限未计", "年度学分"),
                      ("C1", teacher.name, "CS", teacher.school.name, 72, 0.5, 71.5)]


# --- where it shows -------------------------------------------------------------------------------


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_portal_and_transcript_show_the_uncounted_credits(client, users, city):
    me = city["teachers"][0]
    client.force_login(users["teacher"])
    assert "超出上限未计" not in client.get(reverse("credits:portal")).content.decode()
    post(me, 48)
    self_study(me, "24.5")
    page = client.get(reverse("credits:portal")).content.decode()
    assert '<span class="figure">72</span> / 72' in page
    assert "超出上限未计 <strong>0.50</strong> 学分" in page and "每年最多计入 24" in page
    transcript = client.get(reverse("credits:transcript")).content.decode()
    assert "2026 年度：学分 72，学时 72.50" in transcript and "超出上限未计 0.50</strong>" in transcript
    book = load_workbook(io.BytesIO(client.get(reverse("credits:transcript-xlsx")).content))
    assert [tuple(r) for r in book["超出上限未计"].iter_rows(values_only=True)] == [
        ("年度", "登记学分", "自主研修（师本）学分", "网络研修学分", "超出上限未计", "年度学分"), (2026, 72.5, 24.5, 0, 0.5, 72)]


def test_staff_teacher_page_and_api_show_the_uncounted_credits(client, users, city):
    me = city["teachers"][0]
    self_study(me, 30)
    client.force_login(users["principal"])
    page = client.get(reverse("credits:teacher-detail", args=["T1"]) + f"?year={YEAR}").content.decode()
    assert "超出上限未计 <strong>6</strong> 学分" in page
    client.force_login(users["bureau"])
    data = client.get(f"/api/teachers/T1/summary/?year={YEAR}").json()
    assert (data["annual_credits"], data["recorded_credits"], data["uncounted_credits"]) == ("24.00", "30.00", "6.00")


def test_bureau_edits_the_caps_in_the_admin_with_history(client, users):
    policy = Policy.objects.create(year=YEAR)
    client.force_login(users["bureau"])
    url = reverse("admin:credits_policy_change", args=[policy.pk])
    form = client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update(self_study_cap="30", online_cap="", daily_hours_limit="6")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert (policy.self_study_cap, policy.online_cap, policy.daily_hours_limit) == (D("30"), None, D("6"))
    assert [h.self_study_cap for h in policy.history.order_by("history_id")] == [D("24"), D("30")]
    data.update(self_study_cap="-1", daily_hours_limit="0")
    errors = client.post(url, data).context["adminform"].form.errors
    assert set(errors) == {"self_study_cap", "daily_hours_limit"}


def test_only_bureau_staff_change_the_policy(client, users):
    policy = Policy.objects.create(year=YEAR)
    for role in ("district", "auditor"):
        user = UserFactory(username=f"{role}-staff", is_staff=True)
        user_assign_role(user=user, role=Role(role), actor=None, **({"district": users["district"].profile.district}
                                                                   if role == "district" else {}))
        client.force_login(user)
        response = client.post(reverse("admin:credits_policy_change", args=[policy.pk]), {"self_study_cap": "100"})
        assert response.status_code in (302, 403)
        policy.refresh_from_db()
        assert policy.self_study_cap == D("24")
