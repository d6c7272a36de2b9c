"""projects.xlsx and results.xlsx (SPEC §7) on the shared importer of bureau.importing."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from django.db.models import Count, F

from bureau import versions
from bureau.choices import Grade, Mode, Theme
from bureau.importing import Column, Importer, ImportReport, ParsedRow, SpreadsheetError
from bureau.models import District, School, Teacher
from bureau.scoping import visible_teachers
from bureau.services import ApplicationError, event_record
from bureau.spreadsheets import as_choice, as_date, as_decimal, as_int, as_text, as_yes_no
from credits.amendments import pending_count
from credits.posting import closed_years

from . import rules
from .attendance import attendance_mark
from .models import (
    Attendance,
    Enrolment,
    Kind,
    Level,
    Project,
    ProjectEvent,
    ProjectShare,
    ProjectStatus,
    Result,
    Session,
)
from .organisers import organised_projects
from .services import RESULT_BATCH, ResultLine, results_record_many
from .shares import share_set
from .tasks import repost_results


class ProjectImporter(Importer):
    key = "项目编号"
    audit_action = "training.projects.imported"
    object_type = "training.project"
    columns = [
        Column("项目编号", partial(as_text, max_length=32)),
        Column("项目名称", partial(as_text, max_length=200)),
        Column("项目级别", partial(as_choice, choices=Level.values)),
        Column("培训方式", partial(as_choice, choices=Mode.values)),
        Column("类别", partial(as_choice, choices=Kind.values)),
        Column("主题", partial(as_choice, choices=Theme.values)),
        Column("学时", partial(as_decimal, places=2)),
        Column("学分", partial(as_decimal, places=2), required=False),
        Column("开始日期", as_date),
        Column("结束日期", as_date),
        Column("承办单位", partial(as_text, max_length=200)),
        Column("名额", as_int, required=False),
    ]

    def check_row(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        problems = []
        if data["结束日期"] < data["开始日期"]:
            problems.append(("结束日期", f"不能早于开始日期（{data['开始日期']:%Y-%m-%d}）"))
        if data["学时"] <= 0:
            problems.append(("学时", "应大于 0"))
        return problems

    def write(self, rows: list[ParsedRow], report: ImportReport) -> None:
        existing = {p.code: p for p in Project.objects.filter(code__in=[r.data["项目编号"] for r in rows])}
        for row in rows:
            d = row.data
            values = {
                "name": d["项目名称"],
                "level": d["项目级别"],
                "mode": d["培训方式"],
                "kind": d["类别"],
                "theme": d["主题"],
                "hours": d["学时"],
                "credits": d["学分"],
                "start_on": d["开始日期"],
                "end_on": d["结束日期"],
                "organiser": d["承办单位"],
                "capacity": d["名额"],
            }
            project = existing.get(d["项目编号"])
            if project is None:
                status = ProjectStatus.FINISHED if d["结束日期"] < self.today else ProjectStatus.PUBLISHED
                project = Project(code=d["项目编号"], status=status, **values)
                project._history_user = self.actor
                project.save()
                event_record(ProjectEvent, obj=project, action="import", from_state="", to_state=status, actor=self.actor,
                             reason="项目导入")
                report.created += 1
                continue
            changed = [name for name, value in values.items() if getattr(project, name) != value]
            if not changed:
                report.unchanged += 1
                continue
            for name in changed:
                setattr(project, name, values[name])
            project._history_user = self.actor
            project.save()
            report.updated += 1
            if {"hours", "credits"} & set(changed):
                _repost_project(project, self.actor)


def _repost_project(project: Project, actor) -> None:
    """Changed hours or credits change what every passing result of the project is worth (CR-2).

    The results are re-posted by tasks queued after the import commits, RESULT_BATCH results a task
    (one project may have thousands of results; PERF-6: per batch, not per result); the task is
    idempotent, so a retried or repeated run posts nothing more.
    """
    from django.db import transaction

    ids = list(Result.objects.filter(enrolment__project=project).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), RESULT_BATCH):
        chunk = ids[start:start + RESULT_BATCH]
        transaction.on_commit(lambda chunk=chunk: repost_results.delay(chunk, getattr(actor, "pk", None)))


def _organised(actor):
    return Project.objects.all() if actor is None else organised_projects(actor)


def _grade(value: Any) -> str:
    return as_choice(value, Grade.values)


class ResultImporter(Importer):
    """Results per (项目编号, 工号); the key column for duplicates is the pair."""

    key = "_key"
    key_label = "工号"
    duplicate_reason = "与第{row}行重复（同一项目、同一工号）"
    audit_action = "training.results.imported"
    object_type = "training.result"
    columns = [
        Column("项目编号", partial(as_text, max_length=32)),
        Column("工号", partial(as_text, max_length=32)),
        Column("姓名", partial(as_text, max_length=64)),
        Column("考核结果", _grade),
        Column("完成日期", as_date, required=False),
        Column("认定学时", partial(as_decimal, places=2), required=False, header_required=False),
    ]

    def check_row(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        problems = []
        if data["考核结果"] in ("优秀", "合格") and data["完成日期"] is None:
            problems.append(("完成日期", "考核结果为优秀或合格时不能为空"))
        if data["认定学时"] is not None and data["认定学时"] <= 0:
            problems.append(("认定学时", "应大于 0"))
        data["_key"] = (data["项目编号"], data["工号"])
        return problems

    def check_references(self, rows: list[ParsedRow]) -> dict[int, list[tuple[str, str]]]:
        problems: dict[int, list[tuple[str, str]]] = {}
        codes = {r.data["项目编号"] for r in rows}
        self.projects = {p.code: p for p in Project.objects.filter(code__in=codes)}
        # Each organiser imports the results of its own projects only (training.organisers): a district its
        # 县培, a principal the school's 校本, bureau staff (and the command line's system account) any.
        organised = set(_organised(self.actor).filter(code__in=codes).values_list("code", flat=True))
        teachers = Teacher.objects.all() if self.actor is None else visible_teachers(self.actor)
        # PERF-6: only what the checks and the writes read (a deferred field read later would cost a query)
        teachers = teachers.only("pk", "staff_no", "name", "school_id", "user_id")
        self.teachers = {t.staff_no: t for t in teachers.filter(staff_no__in={r.data["工号"] for r in rows})}
        # the projects' results, read as values and kept for the file's teachers (no list of every teacher
        # id in the query: a project's results are far fewer than a city's teachers)
        teacher_ids = {t.pk for t in self.teachers.values()}
        self.existing = {
            (project_id, teacher_id): (grade, completed_on, certified)
            for project_id, teacher_id, grade, completed_on, certified in Result.objects.filter(
                enrolment__project_id__in=[p.pk for p in self.projects.values()]).values_list(
                "enrolment__project_id", "enrolment__teacher_id", "grade", "completed_on", "certified_hours")
            if teacher_id in teacher_ids
        }
        short = self._attendance_shortfalls(rows)
        for row in rows:
            d = row.data
            project = self.projects.get(d["项目编号"])
            if project is None:
                problems.setdefault(row.number, []).append(("项目编号", f"“{d['项目编号']}”项目不存在，请先导入项目"))
            elif project.code not in organised:
                problems.setdefault(row.number, []).append(
                    ("项目编号", f"“{d['项目编号']}”不是您主办的项目，不能导入其考核结果"))
            elif refusal := rules.certified_hours_refusal(certified=d["认定学时"], project_hours=project.hours):
                problems.setdefault(row.number, []).append(("认定学时", refusal))  # CR-10
            teacher = self.teachers.get(d["工号"])
            if teacher is None:
                problems.setdefault(row.number, []).append(("工号", f"“{d['工号']}”教师不存在"))
            elif teacher.name != d["姓名"]:
                problems.setdefault(row.number, []).append(("姓名", f"与工号 {d['工号']} 的教师姓名不符"))
            if row.number in short and row.number not in problems:
                problems[row.number] = [("考核结果", short[row.number])]
        return problems

    def _attendance_shortfalls(self, rows: list[ParsedRow]) -> dict[int, str]:
        """Rows that would set a passing grade below the project's minimum attendance rate, with the reason
        (the same rule training.services.result_record applies when writing)."""
        candidates = []
        for row in rows:
            d = row.data
            project, teacher = self.projects.get(d["项目编号"]), self.teachers.get(d["工号"])
            if project is None or teacher is None or project.min_attendance_rate is None:
                continue
            if d["考核结果"] not in rules.PASSING_GRADES:
                continue
            certified = d["认定学时"] if d["考核结果"] in rules.PASSING_GRADES else None
            if self.existing.get((project.pk, teacher.pk)) == (d["考核结果"], d["完成日期"], certified):
                continue  # unchanged: a re-import changes nothing
            candidates.append((row.number, project, teacher))
        if not candidates:
            return {}
        project_ids = {p.pk for _, p, _ in candidates}
        held = dict(Session.objects.filter(project_id__in=project_ids, held_on__lte=self.today)
                    .values_list("project_id").annotate(n=Count("pk")))
        present = dict(
            ((project_id, teacher_id), n) for project_id, teacher_id, n in
            Attendance.objects.filter(session__project_id__in=project_ids, session__held_on__lte=self.today,
                                      present=True, enrolment__project_id=F("session__project_id"),
                                      enrolment__teacher__in={t.pk for _, _, t in candidates})
            .values_list("enrolment__project_id", "enrolment__teacher_id").annotate(n=Count("pk"))
        )
        shortfalls = {}
        for number, project, teacher in candidates:
            counts = {"present": present.get((project.pk, teacher.pk), 0), "held": held.get(project.pk, 0)}
            if rules.attendance_short(**counts, minimum=project.min_attendance_rate):
                shortfalls[number] = rules.attendance_refusal(**counts, minimum=project.min_attendance_rate)
        return shortfalls

    def write(self, rows: list[ParsedRow], report: ImportReport) -> None:
        """In batches of RESULT_BATCH rows, each written in bulk (PERF-6: queries and cache calls per batch,
        not per row); the closed years are read once for the whole import, the cache keys bumped once."""
        keys = []
        closed = closed_years()
        with versions.coalesced():
            for start in range(0, len(rows), RESULT_BATCH):
                batch = rows[start:start + RESULT_BATCH]
                lines = []
                for row in batch:
                    d = row.data
                    certified = d["认定学时"] if d["考核结果"] in rules.PASSING_GRADES else None
                    lines.append(ResultLine(
                        project=self.projects[d["项目编号"]], teacher=self.teachers[d["工号"]], grade=d["考核结果"],
                        completed_on=d["完成日期"], certified_hours=certified if certified is None else Decimal(certified),
                    ))
                for line, (result, changed) in zip(lines, results_record_many(lines, actor=self.actor, closed=closed)):
                    if (line.project.pk, line.teacher.pk) not in self.existing:
                        report.created += 1
                    elif changed:
                        report.updated += 1
                    else:
                        report.unchanged += 1
                    keys.append(f"result:{result.enrolment_id}")
        if waiting := pending_count(keys):  # CR-9 (amended): dated in a closed year, they wait as 补报
            report.notes.append(f"其中 {waiting} 行的完成日期属于已关账年度，未直接登记学分，已作为补报等待市教育局审核。")


class ShareImporter(Importer):
    """quotas.xlsx (名额分配): 项目编号, 单位代码 (a district code or a 学校代码), 名额."""

    key = "_key"
    key_label = "单位代码"
    duplicate_reason = "与第{row}行重复（同一项目、同一单位）"
    audit_action = "training.shares.imported"
    object_type = "training.projectshare"
    columns = [
        Column("项目编号", partial(as_text, max_length=32)),
        Column("单位代码", partial(as_text, max_length=32)),
        Column("名额", as_int),
    ]

    def check_row(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        data["_key"] = (data["项目编号"], data["单位代码"])
        return []

    def check_references(self, rows: list[ParsedRow]) -> dict[int, list[tuple[str, str]]]:
        problems: dict[int, list[tuple[str, str]]] = {}
        self.projects = {p.code: p for p in Project.objects.filter(code__in={r.data["项目编号"] for r in rows})}
        codes = {r.data["单位代码"] for r in rows}
        self.districts = {d.code: d for d in District.objects.filter(code__in=codes)}
        self.schools = {s.code: s for s in School.objects.filter(code__in=codes)}

        def fail(row, column, reason):
            problems.setdefault(row.number, []).append((column, reason))

        final: dict[int, dict[tuple, int]] = {}
        for row in rows:
            project = self.projects.get(row.data["项目编号"])
            if project is None:
                fail(row, "项目编号", f"“{row.data['项目编号']}”项目不存在")
                continue
            unit = row.data["单位代码"]
            if unit not in self.districts and unit not in self.schools:
                fail(row, "单位代码", f"“{unit}”既不是区县代码也不是学校代码")
                continue
            if project.pk not in final:
                final[project.pk] = {
                    (("d", s.district_id) if s.district_id else ("s", s.school_id)): s.seats
                    for s in ProjectShare.objects.filter(project=project)
                }
            key = ("d", self.districts[unit].pk) if unit in self.districts else ("s", self.schools[unit].pk)
            final[project.pk][key] = row.data["名额"]
        school_district = {s.pk: s.district_id for s in School.objects.filter(
            pk__in={k[1] for shares in final.values() for k in shares if k[0] == "s"})}
        for row in rows:
            project = self.projects.get(row.data["项目编号"])
            unit = row.data["单位代码"]
            if row.number in problems or project is None:
                continue
            shares = final[project.pk]
            if unit in self.districts:
                total = sum(v for k, v in shares.items() if k[0] == "d")
                if project.capacity is not None and total > project.capacity:
                    fail(row, "名额", f"各区县名额合计 {total} 超过项目名额 {project.capacity}")
            else:
                district_id = school_district[self.schools[unit].pk]
                parent = shares.get(("d", district_id))
                total = sum(v for k, v in shares.items() if k[0] == "s" and school_district.get(k[1]) == district_id)
                if parent is None:
                    fail(row, "单位代码", "所在区县尚未分到该项目的名额")
                elif total > parent:
                    fail(row, "名额", f"本区县各校名额合计 {total} 超过区县名额 {parent}")
        return problems

    def write(self, rows: list[ParsedRow], report: ImportReport) -> None:
        ordered = sorted(rows, key=lambda r: r.data["单位代码"] not in self.districts)  # districts first
        for row in ordered:
            project = self.projects[row.data["项目编号"]]
            unit = row.data["单位代码"]
            target = {"district": self.districts[unit]} if unit in self.districts else {"school": self.schools[unit]}
            existing = ProjectShare.objects.filter(project=project, **target).values_list("seats", flat=True).first()
            if existing == row.data["名额"]:
                report.unchanged += 1
                continue
            try:
                share_set(project=project, seats=row.data["名额"], actor=self.actor, **target)
            except ApplicationError as exc:
                raise SpreadsheetError(f"第{row.number}行 名额: {exc}") from None
            if existing is None:
                report.created += 1
            else:
                report.updated += 1


class AttendanceImporter(Importer):
    """Attendance (考勤) per (项目编号, 工号, 日期): 出勤 是/否. 日期 names the session of that project held that
    day. Scoped to the importer's own projects (training.organisers); written by training.attendance."""

    key = "_key"
    key_label = "日期"
    duplicate_reason = "与第{row}行重复（同一项目、同一工号、同一日期）"
    audit_action = "training.attendance.imported"
    object_type = "training.attendance"
    columns = [
        Column("项目编号", partial(as_text, max_length=32)),
        Column("工号", partial(as_text, max_length=32)),
        Column("姓名", partial(as_text, max_length=64)),
        Column("日期", as_date),
        Column("出勤", as_yes_no),
    ]

    def check_row(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        data["_key"] = (data["项目编号"], data["工号"], data["日期"])
        return []

    def check_references(self, rows: list[ParsedRow]) -> dict[int, list[tuple[str, str]]]:
        problems: dict[int, list[tuple[str, str]]] = {}
        codes = {r.data["项目编号"] for r in rows}
        known = set(Project.objects.filter(code__in=codes).values_list("code", flat=True))
        self.projects = {p.code: p for p in _organised(self.actor).filter(code__in=codes)}
        enrolments = {
            (e.project_id, e.teacher.staff_no): e
            for e in Enrolment.objects.filter(project__in=self.projects.values(),
                                              teacher__staff_no__in={r.data["工号"] for r in rows}).select_related("teacher")
        }
        sessions: dict[tuple[int, Any], list[Session]] = {}
        for session in Session.objects.filter(project__in=self.projects.values()).select_related("project"):
            sessions.setdefault((session.project_id, session.held_on), []).append(session)
        self.targets: dict[int, tuple[Session, Enrolment]] = {}

        def fail(row, column, reason):
            problems.setdefault(row.number, []).append((column, reason))

        for row in rows:
            d = row.data
            project = self.projects.get(d["项目编号"])
            if project is None:
                fail(row, "项目编号", f"“{d['项目编号']}”项目不存在" if d["项目编号"] not in known
                     else f"“{d['项目编号']}”不是您主办的项目，不能导入其考勤")
                continue
            enrolment = enrolments.get((project.pk, d["工号"]))
            if enrolment is None:
                fail(row, "工号", f"“{d['工号']}”没有报名该项目")
            elif enrolment.teacher.name != d["姓名"]:
                fail(row, "姓名", f"与工号 {d['工号']} 的教师姓名不符")
            elif enrolment.state not in rules.ATTENDANCE_STATES:
                fail(row, "工号", f"报名状态为“{enrolment.get_state_display()}”，不在参训名单中")
            day = f"{d['日期']:%Y-%m-%d}"
            found = sessions.get((project.pk, d["日期"]), [])
            if not found:
                fail(row, "日期", f"该项目没有 {day} 的场次，请先在场次页面添加")
            elif len(found) > 1:
                fail(row, "日期", f"该项目在 {day} 有 {len(found)} 个场次，请在考勤页面分场次登记")
            elif found[0].held_on > self.today:
                fail(row, "日期", f"{day} 的场次尚未举行")
            if row.number not in problems:
                self.targets[row.number] = (found[0], enrolment)
        return problems

    def write(self, rows: list[ParsedRow], report: ImportReport) -> None:
        by_session: dict[int, tuple[Session, dict[int, bool]]] = {}
        for row in rows:
            session, enrolment = self.targets[row.number]
            by_session.setdefault(session.pk, (session, {}))[1][enrolment.pk] = row.data["出勤"]
        for session, marks in by_session.values():
            try:
                marked = attendance_mark(session=session, marks=marks, actor=self.actor, today=self.today)
            except ApplicationError as exc:
                raise SpreadsheetError(f"{session.held_on:%Y-%m-%d} 场次：{exc}") from None
            report.created += marked.created
            report.updated += marked.updated
            report.unchanged += marked.unchanged
