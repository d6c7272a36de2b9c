"""补报 (CR-9 amended): postings dated in a closed year wait for bureau staff, who approve or refuse them;
and the year's amendment report (the 补报 rows, and the teachers and schools whose verdict differs now
from the frozen close).

credits.posting holds the change (one pending Amendment per source key); this module decides it and
reads it. Approval replays the write (credits.posting.amendment_apply) under the amendment's row lock,
so a second approval, even a concurrent one, finds it decided and posts nothing (CR-2).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone
from openpyxl import load_workbook

from bureau.scoping import role_of
from bureau.services import ApplicationError, audit, event_record
from bureau.spreadsheets import About, SheetSpec, StreamingWorkbook
from bureau.workflow import transition_guard

from . import rules
from .compliance import ComplianceRun
from .models import Amendment, AmendmentEvent, AmendmentState, ComplianceReport, Source
from .posting import amendment_apply

logger = logging.getLogger(__name__)


# --- Decisions ---------------------------------------------------------------------------------------

@transaction.atomic
def amendment_decide(*, amendment_id: int, approve: bool, reason: str, actor, now: dt.datetime | None = None) -> Amendment:
    """Bureau staff approve (the rows post now, once) or refuse (nothing posts; a reason is required)."""
    action = "approve" if approve else "refuse"
    step = rules.AMENDMENT_TRANSITIONS[action]
    if role_of(actor) not in step.roles:
        raise ApplicationError("只有市教育局可以审核补报。")
    reason = (reason or "").strip()
    amendment = Amendment.objects.select_for_update().get(pk=amendment_id)
    transition_guard(rules.AMENDMENT_TRANSITIONS, action=action, state=amendment.state,
                     refusal="该补报当前为“{state}”，不能“{label}”，请刷新页面。",
                     state_label=amendment.get_state_display())
    if step.needs_reason and not reason:
        raise ApplicationError("拒绝补报请填写理由。")
    rows = amendment_apply(amendment, actor=actor) if approve else []
    previous = amendment.state
    amendment.state, amendment.decided_by = step.to_state, actor
    amendment.decided_at, amendment.decision_reason = now or timezone.now(), reason[:200]
    amendment.save(update_fields=["state", "decided_by", "decided_at", "decision_reason", "updated_at"])
    event_record(AmendmentEvent, obj=amendment, action=action, from_state=previous, to_state=amendment.state,
                 actor=actor, reason=reason)
    audit(action=f"credits.amendment.{action}", actor=actor, obj=amendment, reason=reason, rows=[r.pk for r in rows])
    return amendment


# --- Reads -------------------------------------------------------------------------------------------

def amendments_of_year(year: int) -> QuerySet[Amendment]:
    """A closed year's 补报, pending first, then newest first, with what the list and report show."""
    return _ordered(Amendment.objects.filter(year=year))


def _ordered(rows: QuerySet[Amendment]) -> QuerySet[Amendment]:
    return rows.select_related("teacher__school", "requested_by", "decided_by", "reverses").annotate(
        pending_first=Case(When(state=AmendmentState.PENDING, then=Value(0)), default=Value(1),
                           output_field=IntegerField())
    ).order_by("pending_first", "-created_at", "-id")


def amendment_counts() -> dict[int, dict[str, int]]:
    """Per closed year, how many 补报 are in each state (one query)."""
    out: dict[int, dict[str, int]] = {}
    for year, state, n in Amendment.objects.values_list("year", "state").annotate(n=Count("id")).order_by():
        out.setdefault(year, {})[state] = n
    return out


def waiting_note(source_key: str) -> str:
    """What a page adds to its success message when the source's posting waits as 补报 (else "")."""
    pending = Amendment.objects.filter(source_key=source_key, state=AmendmentState.PENDING).values_list("year", flat=True).first()
    if pending is None:
        return ""
    return f"（日期属于已关账的 {pending} 年度，学分未直接登记，已作为补报等待市教育局审核）"


def pending_count(source_keys: list[str], *, chunk: int = 5000) -> int:
    """How many of these sources wait as pending 补报 (an import's summary: the rows that did not post)."""
    return sum(
        Amendment.objects.filter(state=AmendmentState.PENDING, source_key__in=source_keys[i:i + chunk]).count()
        for i in range(0, len(source_keys), chunk)
    )


# --- The amendment report ----------------------------------------------------------------------------

AMENDMENT_HEADERS = ["工号", "姓名", "学校代码", "日期", "学时", "学分", "来源", "说明", "状态", "审核人", "审核时间", "理由"]
TEACHER_CHANGE_HEADERS = ["工号", "姓名", "学校代码", "关账年度学分", "关账是否达标", "当前年度学分", "当前是否达标", "有补报"]
SCHOOL_CHANGE_HEADERS = ["学校代码", "学校名称", "区县", "关账未达标人数", "关账是否预警", "当前未达标人数", "当前是否预警"]


@dataclass(frozen=True)
class FrozenTeacher:
    credits: Decimal | None
    verdict: str  # 是 / 否 / 免考核


_FROZEN_TEACHER_SHEET = re.compile(r"^教师(\(\d+\))?$")  # 教师, and 教师(2)… where a close passed Excel's rows


def frozen_teacher_rows(report: ComplianceReport) -> Iterator[tuple[str, FrozenTeacher]]:
    """The per-teacher verdicts of a closed year, streamed from its frozen workbook's 教师 sheet (and its
    continuation sheets) in the file's order (by 工号, as written), columns found by their headers:
    工号, 年度学分, 是否达标 (docs/decisions.md)."""
    with report.workbook.open("rb") as handle:
        book = load_workbook(handle, read_only=True, data_only=True)
        try:
            for sheet in book.worksheets:
                if not _FROZEN_TEACHER_SHEET.match(sheet.title):
                    continue
                rows = sheet.iter_rows(values_only=True)
                header = [str(h or "").strip() for h in next(rows, ())]
                staff, credits, verdict = (header.index(name) for name in ("工号", "年度学分", "是否达标"))
                for row in rows:
                    if row[staff] in (None, ""):
                        continue
                    value = row[credits]
                    yield str(row[staff]), FrozenTeacher(
                        Decimal(str(value)) if value not in (None, "") else None, str(row[verdict] or ""))
        finally:
            book.close()


def merge_by_staff_no(frozen: Iterable[tuple[str, FrozenTeacher]], live: Iterable) -> Iterator[tuple]:
    """(工号, frozen or None, live TeacherRow or None) in one pass over two sequences both ordered by 工号
    (the database orders by code point: C collation, as Python compares str). An out-of-order key raises
    rather than giving a wrong report."""
    frozen_iter, live_iter = iter(frozen), iter(live)
    f = next(frozen_iter, None)
    t = next(live_iter, None)
    last_f = last_t = None
    while f is not None or t is not None:
        if f is not None and last_f is not None and f[0] <= last_f:
            raise ValueError(f"frozen sheet not ordered by staff number at {f[0]!r}")
        if t is not None and last_t is not None and t.staff_no <= last_t:
            raise ValueError(f"live rows not ordered by staff number at {t.staff_no!r}")
        if t is None or (f is not None and f[0] < t.staff_no):
            yield f[0], f[1], None
            last_f, f = f[0], next(frozen_iter, None)
        elif f is None or t.staff_no < f[0]:
            yield t.staff_no, None, t
            last_t, t = t.staff_no, next(live_iter, None)
        else:
            yield t.staff_no, f[1], t
            last_f, f = f[0], next(frozen_iter, None)
            last_t, t = t.staff_no, next(live_iter, None)


def _amendment_row(a: Amendment, labels: dict[str, str]) -> list:
    if a.wants_row:
        day, hours, credits = a.entry_date, float(a.hours), float(a.credits)
    else:  # only a reversal: the row it cancels, negated
        day, hours, credits = a.reverses.entry_date, -float(a.reverses.hours), -float(a.reverses.credits)
    note = a.description or a.reason
    if a.reverses_id and a.wants_row:
        note = f"{note}（冲销原记录 {a.reverses.entry_date:%Y-%m-%d} {a.reverses.credits} 学分）"
    elif a.reverses_id:
        note = f"冲销：{a.reason}"
    decided = timezone.localtime(a.decided_at).replace(tzinfo=None) if a.decided_at else None
    return [a.teacher.staff_no, a.teacher.name, a.teacher.school.code if a.teacher.school_id else "", day, hours,
            credits, labels.get(a.source, a.source), note, a.get_state_display(),
            (a.decided_by.get_full_name() or a.decided_by.username) if a.decided_by else "", decided, a.decision_reason]


def write_amendment_workbook(target, report: ComplianceReport, *, progress=None, by=None) -> int:
    """补报, 教师变化 (是否达标 now differs from the frozen close) and 学校变化 (是否预警 differs), in
    constant memory: the frozen 教师 sheet and the live run are merged by 工号 in one pass (no dict of the
    city's teachers). Returns the rows written; `progress(fraction)` moves a background job's bar.

    The comparison is the live computation of the year against the frozen figures, whatever moved it;
    有补报 says whether the teacher has an approved 补报 in the year (docs/decisions.md)."""
    year = report.year
    labels = dict(Source.choices)
    amended = set(Amendment.objects.filter(year=year, state=AmendmentState.APPROVED)
                  .values_list("teacher__staff_no", flat=True))
    frozen_schools = {s["code"]: s for s in report.schools}
    subject = max(1, sum(int(s.get("subject") or 0) for s in report.schools))
    book = StreamingWorkbook()
    amendment_sheet = book.sheet(SheetSpec("补报", AMENDMENT_HEADERS, (), date_columns=(3, 10), widths={7: 40, 11: 30}))
    teacher_sheet = book.sheet(SheetSpec("教师变化", TEACHER_CHANGE_HEADERS, ()))
    school_sheet = book.sheet(SheetSpec("学校变化", SCHOOL_CHANGE_HEADERS, (), widths={1: 30}))
    rows = 0
    for a in _ordered(Amendment.objects.filter(year=year)).iterator(2000):
        amendment_sheet.append(_amendment_row(a, labels))
        rows += 1
    with ComplianceRun(year) as run:
        seen = 0
        for staff_no, before, t in merge_by_staff_no(frozen_teacher_rows(report), run.teachers()):
            seen += 1
            if progress is not None and seen % 2000 == 0:
                progress(min(0.95, seen / subject))
            if t is None:  # in the frozen report, not counted in the year any more
                teacher_sheet.append([staff_no, "", "", float(before.credits) if before.credits is not None else None,
                                      before.verdict, None, "（当前无）", "是" if staff_no in amended else "否"])
                rows += 1
            elif before is None or before.verdict != t.verdict:
                teacher_sheet.append([
                    t.staff_no, t.name, t.school_code,
                    float(before.credits) if before and before.credits is not None else None,
                    before.verdict if before else "（关账时无）", float(t.annual_credits), t.verdict,
                    "是" if t.staff_no in amended else "否"])
                rows += 1
        for s in run.schools():
            before = frozen_schools.get(s.code)
            if before is None or bool(before["flagged"]) != s.flagged:
                school_sheet.append([
                    s.code, s.name, s.district, before["short"] if before else None,
                    rules.yes_no(bool(before["flagged"])) if before else "（关账时无）", s.short, rules.yes_no(s.flagged)])
                rows += 1
    book.about(About("补报报告", year=year, scope="全市", by=by, notes=(
        "与年度关账时冻结的报告对比：“教师变化”“学校变化”列出当前结论与冻结结论不同的教师和学校。",)))
    book.save(target)
    return rows
