"""projects.xlsx and results.xlsx (SPEC §7) on the shared importer of bureau.importing."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from bureau.choices import Grade, Mode, Theme
from bureau.importing import Column, Importer, ImportReport, ParsedRow, SpreadsheetError
from bureau.models import District, School, Teacher
from bureau.scoping import visible_teachers
from bureau.services import ApplicationError, event_record
from bureau.spreadsheets import as_choice, as_date, as_decimal, as_int, as_text

from .models import Kind, Level, Project, ProjectEvent, ProjectShare, ProjectStatus, Result
from .services import result_record
from .shares import share_set
from .tasks import repost_result


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

    Each result is re-posted by a task queued after the import commits (one project may have
    thousands of results); the task is idempotent, so a retried or repeated run posts nothing more.
    """
    from django.db import transaction

    for result_id in Result.objects.filter(enrolment__project=project).values_list("pk", flat=True):
        transaction.on_commit(lambda result_id=result_id: repost_result.delay(result_id, getattr(actor, "pk", None)))


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
        self.projects = {p.code: p for p in Project.objects.filter(code__in={r.data["项目编号"] for r in rows})}
        teachers = Teacher.objects.select_related("school")
        if self.actor is not None:
            teachers = visible_teachers(self.actor).select_related("school")
        self.teachers = {t.staff_no: t for t in teachers.filter(staff_no__in={r.data["工号"] for r in rows})}

        self.existing = set(
            Result.objects.filter(enrolment__project__in=self.projects.values(), enrolment__teacher__in=self.teachers.values())
            .values_list("enrolment__project_id", "enrolment__teacher_id")
        )
        for row in rows:
            d = row.data
            project = self.projects.get(d["项目编号"])
            if project is None:
                problems.setdefault(row.number, []).append(("项目编号", f"“{d['项目编号']}”项目不存在，请先导入项目"))
            teacher = self.teachers.get(d["工号"])
            if teacher is None:
                problems.setdefault(row.number, []).append(("工号", f"“{d['工号']}”教师不存在"))
            elif teacher.name != d["姓名"]:
                problems.setdefault(row.number, []).append(("姓名", f"与工号 {d['工号']} 的教师姓名不符"))
        return problems

    def write(self, rows: list[ParsedRow], report: ImportReport) -> None:
        for row in rows:
            d = row.data
            certified = d["认定学时"] if d["考核结果"] in ("优秀", "合格") else None
            _, changed = result_record(
                project=self.projects[d["项目编号"]],
                teacher=self.teachers[d["工号"]],
                grade=d["考核结果"],
                completed_on=d["完成日期"],
                certified_hours=certified if certified is None else Decimal(certified),
                actor=self.actor,
            )
            if (self.projects[d["项目编号"]].pk, self.teachers[d["工号"]].pk) not in self.existing:
                report.created += 1
            elif changed:
                report.updated += 1
            else:
                report.unchanged += 1


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
