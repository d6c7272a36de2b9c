"""CR-4 to CR-8 computed in the database, at their edges, agreeing with credits.rules; the workbook."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from bureau.models import School
from bureau.services import user_assign_role
from credits.compliance import ComplianceRun, Scope, school_figures
from credits.models import Exemption, Policy
from credits.selectors import teacher_year
from credits.services import ledger_adjust, ledger_reverse
from tests.factories import DistrictFactory, SchoolFactory, TeacherFactory, UserFactory
from training.models import Enrolment, Project, Result

YEAR = 2026


@pytest.fixture
def bureau_user(db):
    user = UserFactory(username="clerk")
    user_assign_role(user=user, role="bureau", actor=None)
    return user


def give(teacher, credits, bureau_user, day=dt.date(YEAR, 6, 1), hours=None):
    return ledger_adjust(teacher_id=teacher.pk, entry_date=day, hours=D(hours if hours is not None else credits),
                         credits=D(credits), reason="测试", actor=bureau_user)


def school_with(short, compliant, bureau_user, code):
    school = SchoolFactory(code=code)
    for i in range(short):
        give(TeacherFactory(school=school, staff_no=f"{code}-S{i}"), 10, bureau_user)
    for i in range(compliant):
        give(TeacherFactory(school=school, staff_no=f"{code}-C{i}"), 72, bureau_user)
    return school


def school_row(run, code):
    return next(s for s in run.schools() if s.code == code)


def test_cr7_exactly_twenty_percent_is_flagged_and_one_in_six_is_not(bureau_user):
    school_with(1, 4, bureau_user, "A")  # 1 of 5 = 20%
    school_with(1, 5, bureau_user, "B")  # 1 of 6 = 16.7%
    with ComplianceRun(YEAR) as run:
        a, b = school_row(run, "A"), school_row(run, "B")
        assert (a.subject, a.compliant, a.short, a.flagged) == (5, 4, 1, True)
        assert (b.subject, b.compliant, b.short, b.flagged) == (6, 5, 1, False)
        assert run.summary().flagged == 1


def test_cr7_threshold_comes_from_the_policy(bureau_user):
    Policy.objects.create(year=YEAR, flag_threshold=D("0.15"))
    school_with(1, 5, bureau_user, "B")
    with ComplianceRun(YEAR) as run:
        assert school_row(run, "B").flagged


def test_cr7_school_with_nobody_subject_is_not_flagged(bureau_user):
    school = SchoolFactory(code="N")
    TeacherFactory(school=school, employed_on=dt.date(YEAR, 1, 2), joined_school_on=dt.date(YEAR, 1, 2))
    with ComplianceRun(YEAR) as run:
        row = school_row(run, "N")
        assert (row.subject, row.flagged, row.short_ratio) == (0, False, None)


def test_cr4_first_january_is_subject_second_january_exempt_and_status_and_exemption(bureau_user):
    school = SchoolFactory(code="S")
    on_jan1 = TeacherFactory(school=school, staff_no="J1", employed_on=dt.date(YEAR, 1, 1), joined_school_on=dt.date(YEAR, 1, 1))
    TeacherFactory(school=school, staff_no="J2", employed_on=dt.date(YEAR, 1, 2), joined_school_on=dt.date(YEAR, 1, 2))
    TeacherFactory(school=school, staff_no="R1", status="退休")
    exempt = TeacherFactory(school=school, staff_no="E1")
    Exemption.objects.create(teacher=exempt, year=YEAR, reason="长期病假", approved_by=bureau_user, status="granted")
    Exemption.objects.create(teacher=on_jan1, year=YEAR - 1, reason="去年的免考核不影响今年", approved_by=bureau_user,
                             status="granted")
    with ComplianceRun(YEAR) as run:
        verdicts = {t.staff_no: t.verdict for t in run.teachers()}
    assert verdicts == {"J1": "否", "J2": "免考核", "R1": "免考核", "E1": "免考核"}


def test_cr4_only_a_granted_exemption_exempts_requested_and_refused_do_not(bureau_user):
    school = SchoolFactory(code="S")
    asked = TeacherFactory(school=school, staff_no="A1")
    refused = TeacherFactory(school=school, staff_no="F1")
    granted = TeacherFactory(school=school, staff_no="G1")
    Exemption.objects.create(teacher=asked, year=YEAR, reason="产假", status="requested")
    # Refused twice, then granted: one row of the three counts, and the teacher is listed once.
    Exemption.objects.create(teacher=refused, year=YEAR, reason="病假", status="refused")
    Exemption.objects.create(teacher=granted, year=YEAR, reason="病假", status="refused")
    Exemption.objects.create(teacher=granted, year=YEAR, reason="病假", status="refused")
    Exemption.objects.create(teacher=granted, year=YEAR, reason="病假", status="granted")
    with ComplianceRun(YEAR) as run:
        verdicts = [(t.staff_no, t.verdict) for t in run.teachers()]
        (row,) = run.schools()
    assert verdicts == [("A1", "否"), ("F1", "否"), ("G1", "免考核")]
    assert row.subject == 2
    figures_row, _, teachers = school_figures(YEAR, school)
    assert figures_row.subject == 2 and [t.subject for t in teachers] == [True, True, False]


def test_cr5_reversal_dated_in_the_year_counts_and_exactly_72_is_compliant(bureau_user):
    school = SchoolFactory(code="S")
    teacher = TeacherFactory(school=school, staff_no="T1")
    give(teacher, 72, bureau_user)
    wrong = give(teacher, 5, bureau_user, day=dt.date(YEAR, 12, 31))
    give(teacher, 9, bureau_user, day=dt.date(YEAR + 1, 1, 1))  # next year: does not count
    give(teacher, 9, bureau_user, day=dt.date(YEAR - 1, 12, 31))  # last year: cycle 2021–2025, not this cycle
    ledger_reverse(entry=wrong, reason="重复", actor=bureau_user)
    with ComplianceRun(YEAR) as run:
        (row,) = run.teachers()
    assert (row.annual_credits, row.cycle_hours, row.verdict) == (D("72.00"), D("72.00"), "是")


def test_cr5_one_cent_short_is_not_compliant(bureau_user):
    give(TeacherFactory(staff_no="T1"), D("71.99"), bureau_user)
    with ComplianceRun(YEAR) as run:
        assert next(run.teachers()).verdict == "否"


def test_cr6_cycle_hours_from_cycle_start_and_ethics_and_school_based_subtotals(bureau_user):
    teacher = TeacherFactory(staff_no="T1")
    for day, hours in [(dt.date(2025, 12, 31), 50), (dt.date(2026, 1, 1), 10), (dt.date(2027, 1, 1), 20)]:
        give(teacher, hours, bureau_user, day=day)
    project = Project.objects.create(code="P", name="师德", level="校本", mode="校本研修", kind="必修", theme="师德",
                                     hours=D("8"), start_on=dt.date(YEAR, 3, 1), end_on=dt.date(YEAR, 3, 1), organiser="学校")
    from training.services import result_record

    result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(YEAR, 3, 1), certified_hours=None, actor=None)
    with ComplianceRun(YEAR) as run:
        row = next(run.teachers())
    assert (row.annual_hours, row.ethics_hours, row.school_hours, row.cycle_hours) == (D("18"), D("8"), D("8"), D("18"))


def test_cr8_rates(bureau_user):
    school = SchoolFactory(code="S")
    trained = TeacherFactory(school=school, staff_no="A")
    failed_only = TeacherFactory(school=school, staff_no="B")
    TeacherFactory(school=school, staff_no="C")  # nothing this year
    TeacherFactory(school=school, staff_no="D", employed_on=dt.date(YEAR, 3, 1), joined_school_on=dt.date(YEAR, 3, 1))
    project = Project.objects.create(code="P", name="x", level="县培", mode="集中面授", kind="必修", theme="其他",
                                     hours=D("80"), start_on=dt.date(YEAR, 3, 1), end_on=dt.date(YEAR, 3, 1), organiser="区")
    for teacher, grade in [(trained, "优秀"), (failed_only, "不合格")]:
        Result.objects.create(enrolment=Enrolment.objects.create(project=project, teacher=teacher), grade=grade,
                              completed_on=dt.date(YEAR, 3, 1))
    give(trained, 80, bureau_user)
    with ComplianceRun(YEAR) as run:
        summary = run.summary()
    assert (summary.subject, summary.compliant, summary.participated) == (3, 1, 2)
    assert summary.participation_rate == pytest.approx(2 / 3)
    assert summary.pass_rate == 0.5
    assert summary.compliance_rate == pytest.approx(1 / 3)


def test_database_and_rules_agree_on_every_teacher(bureau_user):
    """The aggregate and credits.selectors.teacher_year (which uses credits.rules) give the same figures."""
    import random

    rng = random.Random(4)
    school = SchoolFactory()
    teachers = [TeacherFactory(school=school) for _ in range(12)]
    for teacher in teachers:
        for _ in range(rng.randint(0, 5)):
            give(teacher, rng.choice([4, 8, 16, 24, 36]), bureau_user,
                 day=dt.date(rng.choice([2025, 2026, 2026, 2027]), rng.randint(1, 12), rng.randint(1, 28)))
    with ComplianceRun(YEAR) as run:
        rows = {t.staff_no: t for t in run.teachers()}
    for teacher in teachers:
        expected = teacher_year(teacher.pk, YEAR)
        row = rows[teacher.staff_no]
        assert (row.annual_credits, row.annual_hours, row.cycle_hours, row.compliant) == (
            expected.annual_credits, expected.annual_hours, expected.cycle_hours, expected.compliant)


def test_scopes_limit_rows(bureau_user):
    d1, d2 = DistrictFactory(), DistrictFactory()
    s1, s2 = SchoolFactory(district=d1, code="X1"), SchoolFactory(district=d2, code="X2")
    t1 = TeacherFactory(school=s1, staff_no="A")
    TeacherFactory(school=s2, staff_no="B")
    with ComplianceRun(YEAR, scope=Scope(district_id=d1.pk)) as run:
        assert [s.code for s in run.schools()] == ["X1"] and [t.staff_no for t in run.teachers()] == ["A"]
    with ComplianceRun(YEAR, scope=Scope(teacher_id=t1.pk)) as run:
        assert [s.code for s in run.schools()] == ["X1"] and [t.staff_no for t in run.teachers()] == ["A"]


def test_workbook_matches_the_figures_cell_by_cell(bureau_user, tmp_path):
    d = DistrictFactory(code="D1", name="城东区")
    school_with(1, 4, bureau_user, "A")
    School.objects.filter(code="A").update(district=d, name="=HYPERLINK(\"x\")")
    school_with(0, 2, bureau_user, "B")
    TeacherFactory(staff_no="Z9", name="+赵", employed_on=dt.date(YEAR, 5, 1), joined_school_on=dt.date(YEAR, 5, 1),
                            school=SchoolFactory(code="C", district=d))
    path = tmp_path / "c.xlsx"
    call_command("compliance_report", "--year", str(YEAR), "--output", str(path))
    book = load_workbook(path)
    assert book.sheetnames == ["汇总", "区县", "学校", "教师", "说明"]
    summary = [tuple(r) for r in book["汇总"].iter_rows(values_only=True)]
    assert summary == [("指标", "数值"), ("年度", 2026), ("应考核人数", 7), ("达标人数", 6), ("参培率", 1),
                       ("合格率", None), ("学分达标率", pytest.approx(6 / 7)), ("预警学校数", 1)]
    schools = [tuple(r) for r in book["学校"].iter_rows(values_only=True)]
    assert schools[0] == ("学校代码", "学校名称", "区县", "应考核人数", "达标人数", "未达标人数", "未达标比例", "是否预警")
    assert schools[1] == ("A", "=HYPERLINK(\"x\")", "城东区", 5, 4, 1, 0.2, "是")
    assert book["学校"]["B2"].data_type == "s"  # stored as text: no spreadsheet runs it
    assert schools[3] == ("C", schools[3][1], "城东区", 0, 0, 0, None, "否")
    teachers = [tuple(r) for r in book["教师"].iter_rows(values_only=True)]
    assert teachers[0] == ("工号", "姓名", "学校代码", "年度学分", "年度学时", "师德学时", "校本研修学时", "周期累计学时", "要求学分", "是否达标",
                           "师德达标", "校本达标", "周期应完成学时", "周期达标", "学校名称")
    assert teachers[-1] == ("Z9", "+赵", "C", 0, 0, 0, 0, 0, 72, "免考核", None, None, 0, None, schools[3][1])
    assert [t[0] for t in teachers[1:]] == sorted(t[0] for t in teachers[1:])
    assert book["教师"].freeze_panes == "A2"
    districts = [tuple(r) for r in book["区县"].iter_rows(values_only=True)]
    assert ("城东区", 2, 5, 4, 0.8, 1) in districts
    # Issue 17: shares are numbers with a percent format; the file ends with what it is.
    assert book["汇总"]["B7"].number_format == "0.0%" and book["汇总"]["B3"].number_format == "General"
    assert book["学校"]["G2"].number_format == "0.0%" and book["区县"]["E2"].number_format == "0.0%"
    about = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    assert about["年度"] == YEAR and about["范围"] == "全市" and about["生成人"] == "系统"
    assert about["文件"] == "学分达标情况" and isinstance(about["生成时间"], dt.datetime)


def test_school_figures_agree_with_the_city_wide_run(bureau_user):
    from credits.compliance import school_figures

    school = school_with(2, 5, bureau_user, "A")
    TeacherFactory(school=school, staff_no="A-NEW", employed_on=dt.date(YEAR, 3, 1), joined_school_on=dt.date(YEAR, 3, 1))
    school_with(3, 1, bureau_user, "B")
    row, summary, teachers = school_figures(YEAR, school)
    with ComplianceRun(YEAR) as run:
        city_row = school_row(run, "A")
        city_teachers = [t for t in run.teachers() if t.school_code == "A"]
    assert (row.subject, row.compliant, row.short, row.flagged) == (city_row.subject, city_row.compliant, city_row.short,
                                                                    city_row.flagged) == (7, 5, 2, True)
    assert [(t.staff_no, t.verdict, t.annual_credits) for t in teachers] == [
        (t.staff_no, t.verdict, t.annual_credits) for t in city_teachers]
    assert summary.compliance_rate == pytest.approx(5 / 7)


def test_cr5_decimal_credits_adding_up_to_exactly_72_are_compliant(bureau_user):
    teacher = TeacherFactory(staff_no="T1")
    for credits in ("28.4", "38.3", "5.3"):
        give(teacher, D(credits), bureau_user)
    with ComplianceRun(YEAR) as run:
        row = next(run.teachers())
    assert (row.annual_credits, row.verdict) == (D("72.00"), "是")


def test_compliance_report_of_a_closed_year_is_the_frozen_workbook(bureau_user, tmp_path, settings):
    from credits.reports import report_build, report_start

    settings.MEDIA_ROOT = tmp_path
    teacher = TeacherFactory(staff_no="T1")
    report_build(report_id=report_start(year=YEAR, kind="closed", actor=bureau_user).pk)
    give(teacher, 72, bureau_user)  # after the close: it waits as 补报 (CR-9 amended) until approved
    from credits.amendments import amendment_decide
    from credits.models import Amendment

    amendment_decide(amendment_id=Amendment.objects.get().pk, approve=True, reason="", actor=bureau_user)
    frozen, live = tmp_path / "frozen.xlsx", tmp_path / "live.xlsx"
    call_command("compliance_report", "--year", str(YEAR), "--output", str(frozen))
    call_command("compliance_report", "--year", str(YEAR), "--output", str(live), "--live")
    assert load_workbook(frozen)["汇总"]["B4"].value == 0
    assert load_workbook(live)["汇总"]["B4"].value == 1
