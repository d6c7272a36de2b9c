"""A teacher's transcript and the compliance workbook (constant memory, injection-safe: bureau.spreadsheets)."""

from __future__ import annotations

from django.utils import timezone

from bureau.spreadsheets import About, Percent, SheetSpec, StreamingWorkbook, write_workbook

from . import rules
from .models import LedgerEntry, Source
from .selectors import policy_for

TRANSCRIPT_HEADERS = ["日期", "年度", "来源", "项目编号", "内容", "培训方式", "主题", "学时", "学分", "类型"]


def transcript_rows(teacher_id: int):
    labels = dict(Source.choices)
    rows = (
        LedgerEntry.objects.filter(teacher_id=teacher_id)
        .order_by("entry_date", "id")
        .values_list("entry_date", "source", "project_code", "description", "mode", "theme", "hours", "credits",
                     "reverses_id")
    )
    for day, source, code, description, mode, theme, hours, credits, reverses in rows.iterator(2000):
        yield [
            day,
            day.year,
            labels.get(source, source),
            code or "",
            description,
            mode,
            theme,
            float(hours),
            float(credits),
            "冲销" if reverses else "登记",
        ]


CAPPED_YEAR_HEADERS = ["年度", "登记学分", "自主研修（师本）学分", "网络研修学分", "超出上限未计", "年度学分"]


def capped_years(teacher_id: int) -> list[tuple[int, rules.AnnualCredits]]:
    """Each year of a teacher's ledger with its credits as recorded and as counted after the CR-3 caps
    (the policy of that year), newest first."""
    by_year: dict[int, list] = {}
    rows = LedgerEntry.objects.filter(teacher_id=teacher_id).values_list("entry_date", "source", "mode", "credits")
    for day, source, mode, credits in rows.iterator(2000):
        by_year.setdefault(day.year, []).append((source, mode, credits))
    return [(year, rules.annual_credits_of_rows(by_year[year], policy_for(year))) for year in sorted(by_year, reverse=True)]


def write_transcript(target, *, teacher) -> None:
    # write_workbook makes the title valid (SEC-6: a name may hold : / \\ ? * [ ] ' or be long).
    sheets = [SheetSpec(f"{teacher.name}学分档案", TRANSCRIPT_HEADERS, transcript_rows(teacher.pk), date_columns=(0,))]
    capped = [
        [year, float(c.recorded), float(c.self_study), float(c.online), float(c.uncounted), float(c.counted)]
        for year, c in capped_years(teacher.pk) if c.uncounted
    ]
    if capped:  # only where a CR-3 cap left credits out of a year (docs/decisions.md)
        sheets.append(SheetSpec("超出上限未计", CAPPED_YEAR_HEADERS, capped, widths={2: 20}))
    write_workbook(target, sheets)


SUMMARY_HEADERS = ["指标", "数值"]
DISTRICT_HEADERS = ["区县", "学校数", "应考核人数", "达标人数", "达标率", "预警学校数"]
SCHOOL_HEADERS = ["学校代码", "学校名称", "区县", "应考核人数", "达标人数", "未达标人数", "未达标比例", "是否预警"]
TEACHER_HEADERS = ["工号", "姓名", "学校代码", "年度学分", "年度学时", "师德学时", "校本研修学时", "周期累计学时", "要求学分", "是否达标",
                   # CR-5/CR-6 (amended, SPEC §7): after 是否达标, in this order
                   "师德达标", "校本达标", "周期应完成学时", "周期达标",
                   "学校名称"]  # issue 17: the name beside the code, after the §7 columns
CAPPED_HEADERS = ["工号", "姓名", "学校代码", "学校名称", "登记学分", "超出上限未计", "年度学分"]


def _num(value):
    return None if value is None else float(value)


def _pct(value):
    return None if value is None else Percent(value)


def scope_label(run) -> str:
    """The scope of a run in words, for the 说明 sheet."""
    from bureau.models import District, School, Teacher

    scope = run.scope
    if scope.teacher_id is not None:
        return str(Teacher.objects.filter(pk=scope.teacher_id).first() or "")
    if scope.school_id is not None:
        school = School.objects.filter(pk=scope.school_id).first()
        return f"{school.code} {school.name}" if school else ""
    if scope.district_id is not None:
        district = District.objects.filter(pk=scope.district_id).first()
        return district.name if district else ""
    return "全市"


def write_compliance_workbook(target, run, *, on_progress=None, by=None, frozen: bool = False) -> None:
    """The SPEC §7 compliance workbook in one read of the ledger: the sheets are made in their order
    (汇总, 区县, 学校, 教师), the teacher rows stream into 教师 while the run sums the schools, then the
    roll-ups are written into the sheets made before it (bureau.spreadsheets.StreamingWorkbook).

    超出上限未计 (CR-3/CR-5): the §7 sheets keep their columns; where a cap left credits out of someone's
    year, one more sheet after them names the teachers and the amounts, filled from the same stream
    (docs/decisions.md)."""
    book = StreamingWorkbook()
    summary_sheet = book.sheet(SheetSpec("汇总", SUMMARY_HEADERS, (), widths={0: 14, 1: 12}))
    district_sheet = book.sheet(SheetSpec("区县", DISTRICT_HEADERS, ()))
    school_sheet = book.sheet(SheetSpec("学校", SCHOOL_HEADERS, (), widths={1: 30}))
    teacher_sheet = book.sheet(SheetSpec("教师", TEACHER_HEADERS, (), widths={1: 10, 2: 10, 14: 24}))
    capped_sheet = None
    names = run.school_names()
    requirement = float(run.policy.annual_credits)
    total = max(1, run.expected_teachers()) if on_progress else 1
    yes_no = rules.yes_no
    teachers = run.teachers()
    try:
        for index, t in enumerate(teachers, start=1):
            if on_progress and index % 5000 == 0:
                on_progress(min(index / total, 1.0))
            teacher_sheet.append([
                t.staff_no, t.name, t.school_code, float(t.annual_credits), float(t.annual_hours), float(t.ethics_hours),
                float(t.school_hours), float(t.cycle_hours), requirement, t.verdict,
                yes_no(t.ethics_ok) or None, yes_no(t.school_ok) or None, t.cycle_required,
                yes_no(t.cycle_ok) or None,  # blank cells where the verdict is blank
                names.get(t.school_code, ""),
            ])
            if t.uncounted:
                if capped_sheet is None:
                    capped_sheet = book.sheet(SheetSpec("超出上限未计", CAPPED_HEADERS, ()))
                capped_sheet.append([t.staff_no, t.name, t.school_code, names.get(t.school_code, ""),
                                     float(t.annual_credits + t.uncounted),
                                     float(t.uncounted), float(t.annual_credits)])
    finally:
        teachers.close()  # a failure releases the server-side cursor at once
    summary = run.summary()  # summed by the stream above: no second read
    for row in (
        ["年度", summary.year],
        ["应考核人数", summary.subject],
        ["达标人数", summary.compliant],
        ["参培率", _pct(summary.participation_rate)],
        ["合格率", _pct(summary.pass_rate)],
        ["学分达标率", _pct(summary.compliance_rate)],
        ["预警学校数", summary.flagged],
    ):
        summary_sheet.append(row)
    for d in run.districts():
        district_sheet.append([d.name, d.schools, d.subject, d.compliant, _pct(d.compliance_rate), d.flagged])
    for s in run.schools():
        school_sheet.append([s.code, s.name, s.district, s.subject, s.compliant, s.short, _pct(s.short_ratio),
                             "是" if s.flagged else "否"])
    policy = run.policy
    book.about(About(
        "学分达标情况（年度关账冻结）" if frozen else "学分达标情况", year=run.year, scope=scope_label(run), by=by,
        notes=(f"要求学分 {policy.annual_credits:g}；师德学时不少于 {policy.min_ethics_hours:g}，校本研修学时不少于 "
               f"{policy.min_school_based_hours:g}；周期 {policy.cycle_years} 年 {policy.cycle_hours:g} 学时。",
               f"学校未达标比例达到 {Percent(policy.flag_threshold):.0%} 即预警（含等于）。",
               "“教师”表的学校为该年度任职天数最多的学校；“是否达标”为“免考核”的教师不计入应考核人数。"),
    ))
    book.save(target)


SHORT_HEADERS = ["工号", "姓名", "学校代码", "年度学分", "要求学分", "师德学时", "师德要求", "校本研修学时", "校本要求",
                 "周期累计学时", "周期应完成学时", "欠缺项目"]


def write_short_workbook(target, teachers, policy, *, about: About | None = None) -> None:
    """The "who is short on what" list (CR-5, CR-6 amended): TeacherRow objects short of something
    (ComplianceRun.teachers(short_of_anything=True), or a school's rows), streamed."""
    rows = (
        [t.staff_no, t.name, t.school_code, float(t.annual_credits), float(policy.annual_credits),
         float(t.ethics_hours), float(policy.min_ethics_hours), float(t.school_hours),
         float(policy.min_school_based_hours), float(t.cycle_hours), t.cycle_required, "、".join(t.short_of)]
        for t in teachers
    )
    write_workbook(target, [SheetSpec("欠缺名单", SHORT_HEADERS, rows)], about=about)


LEDGER_HEADERS = ["日期", "工号", "姓名", "学校代码", "来源", "项目编号", "培训方式", "主题", "学时", "学分", "类型", "说明",
                  "登记人", "审核人", "登记时间"]


def write_ledger(target, rows, *, about: About | None = None, progress=None) -> None:
    """Ledger rows for auditors, streamed in constant memory."""
    labels = dict(Source.choices)
    values = rows.order_by("entry_date", "id").values_list(
        "entry_date", "teacher__staff_no", "teacher__name", "teacher__school__code", "source", "project_code", "mode",
        "theme", "hours", "credits", "reverses_id", "description", "entered_by__username", "approved_by__username",
        "created_at",
    )

    def out():
        for (day, staff_no, name, school, source, project, mode, theme, hours, credits, reverses, description,
             entered, approved, created) in values.iterator(5000):
            yield [day, staff_no, name, school, labels.get(source, source), project or "", mode, theme, float(hours),
                   float(credits), "冲销" if reverses else "登记", description, entered or "系统", approved or "",
                   timezone.localtime(created).replace(tzinfo=None)]

    write_workbook(target, [SheetSpec("学分登记", LEDGER_HEADERS, out(), date_columns=(0,))], about=about,
                   progress=progress)
