"""The province report for Y (上报省厅, SPEC §7 amended): 教师, 项目, 覆盖, 交流, 骨干.

The 教师 sheet streams: the year's verdicts, figures and CR-7 school come only from the compliance
computation (credits.compliance.ComplianceRun.teachers(), ordered by 工号); the teacher's own attributes,
hours by level and mode and CR-8 participation come from one more query (province.selectors), also
streamed by 工号, and the two are merge-joined here. Schools are a dict by code (≤ a few thousand rows);
the 覆盖 sheet is summed while the teacher rows pass (a dict per 区县 × 城乡类型), so nothing grows with
the number of teachers. Written with the shared writer (bureau.spreadsheets: write-only, header frozen,
formula-looking text stored as text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bureau.choices import Location
from bureau.rules import mask_id_number
from bureau.spreadsheets import About, SheetSpec, write_workbook
from credits import rules as credit_rules

from . import selectors

TEACHER_HEADERS = ["工号", "姓名", "身份证号", "性别", "学校代码", "学校名称", "区县", "学段", "城乡类型", "编制类型", "职称",
                   "国培学时", "省培学时", "市培学时", "县培学时", "校本学时", "师本学时", "外部认定学时", "集中面授学时", "网络研修学时",
                   "年度学分", "是否达标", "周期累计学时", "周期应完成学时", "周期达标"]
PROJECT_HEADERS = ["项目编号", "项目名称", "项目级别", "培训方式", "学时", "参训人数", "合格人数", "优秀人数"]
COVERAGE_HEADERS = ["区县", "城乡类型", "应考核人数", "参训人数", "参培率", "薄弱学校应考核人数", "薄弱学校参训人数"]
EXCHANGE_HEADERS = ["区县", "应交流人数", "最低交流人数", "已批准交流人数"]
BACKBONE_HEADERS = ["层级", "类别", "在册人数"]

# Progress is reported every this many teachers (the count is known from the run).
PROGRESS_EVERY = 1000

_LOCATION_ORDER = {value: index for index, value in enumerate(Location.values)}


class MergeError(RuntimeError):
    """The compliance run named a teacher the attribute query did not return (they must list the same
    teachers in the same order)."""


class Coverage:
    """覆盖: per 区县 × 城乡类型 of the teacher's CR-7 school, summed as the teacher rows pass."""

    def __init__(self, schools: dict[str, selectors.SchoolInfo]):
        # Every 区县 × 城乡类型 that has a school is a row, with zeros where nobody is subject.
        self.cells: dict[tuple[str, str, str], list[int]] = {}
        for school in schools.values():
            self.cells.setdefault(self._key(school), [0, 0, 0, 0])

    @staticmethod
    def _key(school: selectors.SchoolInfo) -> tuple[str, str, str]:
        return (school.district_code, school.district, school.location)

    def add(self, school: selectors.SchoolInfo, *, participated: bool) -> None:
        cell = self.cells.setdefault(self._key(school), [0, 0, 0, 0])
        cell[0] += 1
        cell[1] += participated
        if school.is_weak:
            cell[2] += 1
            cell[3] += participated

    def rows(self) -> Iterator[list]:
        ordered = sorted(self.cells.items(), key=lambda kv: (kv[0][0], _LOCATION_ORDER.get(kv[0][2], 99), kv[0][2]))
        for (_, district, location), (subject, participated, weak_subject, weak_participated) in ordered:
            yield [district, location, subject, participated, participated / subject if subject else None,
                   weak_subject, weak_participated]


def _hours(value) -> float:
    return float(value or 0)


def teacher_rows(run, schools: dict[str, selectors.SchoolInfo], coverage: Coverage, *, full_id_numbers: bool,
                 on_progress: Callable[[int], None] | None = None) -> Iterator[list]:
    """教师: one row per teacher of the compliance run, by 工号 (SPEC §7)."""
    attributes = selectors.teacher_attributes(run.year)
    verdicts = run.teachers()
    try:
        for index, t in enumerate(verdicts, start=1):
            for a in attributes:
                if a.staff_no == t.staff_no:
                    break
            else:
                raise MergeError(f"teacher {t.staff_no} of the compliance run is missing from the attribute query")
            school = schools.get(t.school_code)
            if t.subject and school is not None:
                coverage.add(school, participated=a.participated)
            if on_progress and index % PROGRESS_EVERY == 0:
                on_progress(index)
            yield [
                t.staff_no, t.name, a.id_number if full_id_numbers else mask_id_number(a.id_number), a.gender,
                t.school_code, school.name if school else "", school.district if school else "",
                school.stage if school else "", school.location if school else "", a.employment_type, a.title,
                _hours(a.national), _hours(a.provincial), _hours(a.municipal), _hours(a.county),
                _hours(a.school_based), _hours(a.self_study), _hours(a.external), _hours(a.face_to_face),
                _hours(a.online),
                float(t.annual_credits), t.verdict, float(t.cycle_hours), t.cycle_required,
                credit_rules.yes_no(t.cycle_ok) or None,  # blank outside the cycle's last year (CR-6)
            ]
    finally:
        # Both server-side cursors are released at once, also when the writer stops early (a failure),
        # before the run drops the table one of them reads.
        verdicts.close()
        attributes.close()


def province_sheets(run, *, full_id_numbers: bool, on_progress: Callable[[int], None] | None = None) -> list[SheetSpec]:
    year = run.year
    schools = selectors.schools_by_code()
    coverage = Coverage(schools)
    return [
        SheetSpec("教师", TEACHER_HEADERS,
                  teacher_rows(run, schools, coverage, full_id_numbers=full_id_numbers, on_progress=on_progress),
                  widths={2: 22, 5: 30}),
        SheetSpec("项目", PROJECT_HEADERS, selectors.project_rows(year), widths={1: 30}),
        # Read when the writer reaches the sheet: after the 教师 sheet has filled the coverage cells.
        SheetSpec("覆盖", COVERAGE_HEADERS, _lazy(coverage.rows), percent_columns=(4,)),
        SheetSpec("交流", EXCHANGE_HEADERS, _lazy(lambda: selectors.exchange_rows(year, schools))),
        SheetSpec("骨干", BACKBONE_HEADERS, selectors.backbone_rows(year)),
    ]


def _lazy(make: Callable[[], Iterator[list]]) -> Iterator[list]:
    """Rows computed only when the writer asks for the first one."""
    yield from make()


def write_province_workbook(target, run, *, full_id_numbers: bool,
                            on_progress: Callable[[int], None] | None = None, by=None) -> None:
    """`run`: an entered credits.compliance.ComplianceRun of the year."""
    write_workbook(target, province_sheets(run, full_id_numbers=full_id_numbers, on_progress=on_progress),
                   about=About("上报省厅报表", year=run.year, scope="全市", by=by, notes=(
                       "身份证号为完整号码（仅限有权限者导出，已记入审计日志）。" if full_id_numbers
                       else "身份证号已脱敏（仅显示首末位）。",
                       "“教师”表的学校为该年度任职天数最多的学校；各级培训学时按学分登记所属项目的级别统计。")))
