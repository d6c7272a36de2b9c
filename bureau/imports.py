"""schools.xlsx and teachers.xlsx (SPEC §7) on top of the shared importer."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .bulkinsert import copy_history, copy_rows
from .choices import Education, EmploymentType, Gender, Location, PostingKind, Role, Stage, Status, Title
from .importing import Column, Importer, ImportReport, ParsedRow
from .models import Cluster, District, Posting, School, Teacher
from .rules import IdNumberError, check_id_number, normalize_id_number, status_change_problem
from .scoping import role_of, visible_schools, visible_teachers
from .services import latest_status_changes, postings_follow_school, status_changes_record
from .spreadsheets import CellError, as_choice, as_date, as_int, as_text, as_yes_no

BATCH = 2000


def _chunks(items: list, size: int = 5000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SchoolImporter(Importer):
    key = "学校代码"
    audit_action = "bureau.schools.imported"
    object_type = "bureau.school"
    columns = [
        Column("学校代码", partial(as_text, max_length=32)),
        Column("学校名称", partial(as_text, max_length=128)),
        Column("区县", partial(as_text, max_length=64)),
        Column("学段", partial(as_choice, choices=Stage.values)),
        Column("城乡类型", partial(as_choice, choices=Location.values)),
        Column("薄弱学校", as_yes_no),
        Column("片区", partial(as_text, max_length=64), required=False, header_required=False),
        Column("编制数", as_int, required=False, header_required=False),
    ]

    def check_references(self, rows: list[ParsedRow]) -> dict[int, list[tuple[str, str]]]:
        problems: dict[int, list[tuple[str, str]]] = {}
        if self.actor and role_of(self.actor) == Role.DISTRICT:
            own = self.actor.profile.district
            for row in rows:
                if row.data["区县"] not in (own.code, own.name):
                    problems.setdefault(row.number, []).append(("区县", f"不在您的管辖范围（{own.name}）"))
        return problems

    def write(self, rows: list[ParsedRow], report: ImportReport) -> None:
        districts = self._districts({r.data["区县"] for r in rows}, report)
        existing = {s.code: s for s in School.objects.filter(code__in=[r.data["学校代码"] for r in rows])}
        clusters = {c.name: c for c in Cluster.objects.filter(name__in={r.data["片区"] for r in rows if r.data["片区"]})}
        new_clusters = 0
        created, changed = [], []
        fields = ["name", "district", "stage", "location", "is_weak", "cluster", "staffing_quota"]
        for row in rows:
            d = row.data
            district = districts[d["区县"]]
            cluster = None
            if d["片区"]:
                cluster = clusters.get(d["片区"])
                if cluster is None:
                    cluster = clusters[d["片区"]] = Cluster.objects.create(name=d["片区"], district=district)
                    new_clusters += 1
            values = {
                "name": d["学校名称"],
                "district": district,
                "stage": d["学段"],
                "location": d["城乡类型"],
                "is_weak": d["薄弱学校"],
                "cluster": cluster,
                "staffing_quota": d["编制数"],
            }
            school = existing.get(d["学校代码"])
            if school is None:
                created.append(School(code=d["学校代码"], **values))
            elif _apply(school, values):
                changed.append(school)
            else:
                report.unchanged += 1
        bulk_create_with_history(created, School, batch_size=BATCH, default_user=self.actor)
        bulk_update_with_history(changed, School, fields, batch_size=BATCH, default_user=self.actor)
        report.created += len(created)
        report.updated += len(changed)
        if new_clusters:
            report.notes.append(f"新建片区 {new_clusters} 个（请在片区中指定牵头学校）。")

    def _districts(self, names: set[str], report: ImportReport) -> dict[str, District]:
        """区县 may be a district code or name; an unknown one is created (code = name) and reported."""
        found: dict[str, District] = {}
        for district in District.objects.all():
            found[district.code] = found[district.name] = district
        added = [n for n in sorted(names) if n not in found]
        for name in added:
            found[name] = District.objects.create(code=name, name=name)
        if added:
            report.notes.append(f"新建区县 {len(added)} 个：{'、'.join(added)}。")
        return found


def _apply(instance, values: dict[str, Any]) -> bool:
    """Set changed attributes; True when anything changed."""
    changed = False
    for name, value in values.items():
        current = getattr(instance, name + "_id") if hasattr(value, "pk") else getattr(instance, name)
        new = value.pk if hasattr(value, "pk") else value
        if current != new:
            setattr(instance, name, value)
            changed = True
    return changed


def _id_number(value: Any) -> str:
    """Text, or an exact integer (written by a program); a float lost digits in Excel and is refused."""
    if isinstance(value, float):
        raise CellError("应以文本格式填写（数字格式会丢失末位），请将该列设为文本后重新填写")
    return normalize_id_number(str(value) if isinstance(value, int) else as_text(value))


class TeacherImporter(Importer):
    key = "工号"
    audit_action = "bureau.teachers.imported"
    object_type = "bureau.teacher"
    columns = [
        Column("工号", partial(as_text, max_length=32)),
        Column("姓名", partial(as_text, max_length=64)),
        Column("性别", partial(as_choice, choices=Gender.values)),
        Column("出生日期", as_date),
        Column("身份证号", _id_number, required=False, header_required=False),
        Column("学校代码", partial(as_text, max_length=32)),
        Column("任教学科", partial(as_text, max_length=32)),
        Column("职称", partial(as_choice, choices=Title.values)),
        Column("学历", partial(as_choice, choices=Education.values)),
        Column("参加工作日期", as_date),
        Column("入校日期", as_date),
        Column("编制类型", partial(as_choice, choices=EmploymentType.values)),
        Column("在职状态", partial(as_choice, choices=Status.values)),
        Column("班主任", as_yes_no, required=False, header_required=False),
        # CR-7 (amended): when 在职状态 changes, the day the change took effect (blank: the import date).
        Column("状态生效日期", as_date, required=False, header_required=False),
    ]

    def check_row(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        problems = []
        for column in ("出生日期", "参加工作日期", "入校日期", "状态生效日期"):
            if data[column] is not None and data[column] > self.today:
                problems.append((column, f"不能晚于今天（{self.today:%Y-%m-%d}）"))
        if data["参加工作日期"] <= data["出生日期"]:
            problems.append(("参加工作日期", "应晚于出生日期"))
        if data["入校日期"] < data["参加工作日期"]:
            problems.append(("入校日期", f"不能早于参加工作日期（{data['参加工作日期']:%Y-%m-%d}）"))
        if data["身份证号"]:
            try:
                data["身份证号"] = check_id_number(
                    data["身份证号"], birth_date=data["出生日期"], male=data["性别"] == Gender.MALE
                )
            except IdNumberError as exc:
                problems.append(("身份证号", str(exc)))
        return problems

    def check_references(self, rows: list[ParsedRow]) -> dict[int, list[tuple[str, str]]]:
        problems: dict[int, list[tuple[str, str]]] = {}
        codes = {r.data["学校代码"] for r in rows}
        scope = visible_schools(self.actor) if self.actor else School.objects.all()
        self.schools = dict(scope.filter(code__in=codes).values_list("code", "id"))
        outside = set()
        if self.actor:
            outside = set(School.objects.filter(code__in=codes - self.schools.keys()).values_list("code", flat=True))
        # SEC-3: a 身份证号 belongs to one teacher; compare without ever printing the number.
        id_rows: dict[str, int] = {}
        owners: dict[str, str] = {}
        numbers = [r.data["身份证号"] for r in rows if r.data["身份证号"]]
        for chunk in _chunks(numbers):
            owners.update(Teacher.objects.filter(id_number__in=chunk).values_list("id_number", "staff_no"))
        self.visible_owners = set(owners.values())
        if self.actor is not None:
            self.visible_owners = visible_teachers_keys(self.actor, list(owners.values()))
        # SEC-3: numbers from anyone but bureau staff are held for the bureau to confirm, all alike, so the
        # import never tells whether a number belongs to a teacher outside the user's scope.
        self.hold_numbers = self.actor is not None and role_of(self.actor) != Role.BUREAU
        for row in rows:
            d = row.data
            if d["学校代码"] not in self.schools:
                reason = "不在您的管辖范围" if d["学校代码"] in outside else "学校不存在，请先导入学校"
                problems.setdefault(row.number, []).append(("学校代码", f"“{d['学校代码']}”{reason}"))
            number = d["身份证号"]
            if number:
                if number in id_rows:
                    problems.setdefault(row.number, []).append(("身份证号", f"与第{id_rows[number]}行重复"))
                else:
                    id_rows[number] = row.number
                owner = owners.get(number)
                if owner and owner != d["工号"] and (owner in self.visible_owners or not self.hold_numbers):
                    problems.setdefault(row.number, []).append(("身份证号", f"已登记在工号 {owner} 名下"))
        # CR-7: a change of status may not take effect before the teacher's last recorded change.
        # PERF-3: the teachers on record are read once, here, as plain values; write() compares with them.
        self.status_now, self.on_record, latest = {}, {}, {}
        for chunk in _chunks([r.data["工号"] for r in rows]):
            found = {}
            for values in Teacher.objects.filter(staff_no__in=chunk).values("id", "staff_no", *_COMPARED):
                staff_no = values["staff_no"]
                found[staff_no], self.status_now[staff_no], self.on_record[staff_no] = values["id"], values["status"], values
            by_id = latest_status_changes(found.values())
            latest.update((staff_no, by_id[pk]) for staff_no, pk in found.items() if pk in by_id)
        for row in rows:
            d = row.data
            old = self.status_now.get(d["工号"])
            if old is not None and old != d["在职状态"]:
                problem = status_change_problem(effective_on=d["状态生效日期"] or self.today, latest=latest.get(d["工号"]),
                                                today=self.today)
                if problem:
                    problems.setdefault(row.number, []).append(("状态生效日期", problem))
        if self.actor:
            # Updating a teacher who is outside the actor's scope is refused too, row by row and whatever
            # else the file holds: with 只导入有效行 the other rows are written (issue 14: a district took
            # over another district's teacher when one unrelated row had an error).
            keys = [r.data["工号"] for r in rows]
            visible = visible_teachers_keys(self.actor, keys)
            foreign = set(Teacher.objects.filter(staff_no__in=keys).values_list("staff_no", flat=True)) - visible
            for row in rows:
                if row.data["工号"] in foreign:
                    problems.setdefault(row.number, []).append(("工号", "该教师不在您的管辖范围"))
        return problems

    def write(self, rows: list[ParsedRow], report: ImportReport) -> None:
        # PERF-3: the rows are compared with the teachers on record as check_references read them (plain
        # values, under the import's lock); only the teachers that change are loaded as instances.
        current: dict[str, dict[str, Any]] = self.on_record
        new_rows: list[dict[str, Any]] = []
        updates: list[tuple[int, dict[str, Any], dt.date | None]] = []  # (teacher id, values, 状态生效日期)
        dated: set[str] = set()  # new teachers listed as no longer 在职 since a given day
        held = 0
        schools, hold_numbers, today = self.schools, self.hold_numbers, self.today
        for row in rows:
            d = row.data
            number = d["身份证号"]
            values = {
                "name": d["姓名"],
                "gender": d["性别"],
                "birth_date": d["出生日期"],
                "school_id": schools[d["学校代码"]],
                "subject": d["任教学科"],
                "title": d["职称"],
                "education": d["学历"],
                "employed_on": d["参加工作日期"],
                "joined_school_on": d["入校日期"],
                "employment_type": d["编制类型"],
                "status": d["在职状态"],
                "is_class_teacher": bool(d["班主任"]),
            }
            old = current.get(d["工号"])
            if number is not None:  # a blank cell never erases a number on record
                if not hold_numbers:
                    values["id_number"] = number or None
                elif old is None or (number or None) != old["id_number"]:
                    values["pending_id_number"] = number or None
                    held += 1
            if old is None:
                values["staff_no"] = d["工号"]
                values["status_since"] = d["状态生效日期"] or today
                new_rows.append(values)
                if d["状态生效日期"] and d["在职状态"] != Status.ACTIVE:
                    dated.add(d["工号"])
            elif any(old[name] != value for name, value in values.items()):
                updates.append((old["id"], values, d["状态生效日期"]))
            else:
                report.unchanged += 1
        self._create(new_rows, dated)
        self._update(updates)
        report.created += len(new_rows)
        report.updated += len(updates)
        if held:
            report.notes.append(f"{held} 个身份证号已提交市教育局核验，核验后登记。")

    def _create(self, new_rows: list[dict[str, Any]], dated: set[str]) -> None:
        """New teachers, their history rows and their home postings: one COPY per table and chunk, from
        plain values (bureau.bulkinsert.copy_rows; model instances and INSERT text were most of the time)."""
        if not new_rows:
            return
        now = timezone.now()
        actor_id = getattr(self.actor, "pk", None)
        teachers = copy_rows(Teacher, new_rows, now=now)
        copy_history(Teacher, teachers, user=self.actor, now=now)
        # CR-7: a teacher first listed as no longer 在职 with a 状态生效日期 was 在职 until that day.
        if dated:
            listed = [Teacher(id=t["id"], school_id=t["school_id"], status=t["status"], status_since=t["status_since"])
                      for t in teachers if t["staff_no"] in dated]
            status_changes_record(changes=[(t, Status.ACTIVE, t.status_since) for t in listed], actor=self.actor,
                                  note="名册导入")
        copy_rows(Posting, [
            {"teacher_id": t["id"], "school_id": t["school_id"], "kind": PostingKind.REGULAR,
             "started_on": t["joined_school_on"], "note": "名册导入", "created_by_id": actor_id}
            for t in teachers
        ], now=now)

    def _update(self, updates: list[tuple[int, dict[str, Any], dt.date | None]]) -> None:
        if not updates:
            return
        instances: dict[int, Teacher] = {}
        for chunk in _chunks([pk for pk, _, _ in updates]):
            instances.update((t.pk, t) for t in Teacher.objects.filter(pk__in=chunk))
        changed: list[Teacher] = []
        moved: list[Teacher] = []
        status_changes: list[tuple[Teacher, str, dt.date]] = []
        for pk, values, effective_on in updates:
            teacher = instances[pk]
            old_school, old_status = teacher.school_id, teacher.status
            _apply(teacher, values)
            if teacher.status != old_status:
                status_changes.append((teacher, old_status, effective_on or self.today))
            changed.append(teacher)
            if teacher.school_id != old_school:
                moved.append(teacher)
        status_changes_record(changes=status_changes, actor=self.actor, note="名册导入")  # sets status_since
        bulk_update_with_history(changed, Teacher, TEACHER_IMPORT_FIELDS, batch_size=BATCH, default_user=self.actor)
        if moved:
            postings_follow_school(teachers=moved, actor=self.actor, today=self.today)


# The teacher's columns an import row sets (compared with the row to find unchanged teachers).
_COMPARED = ["name", "gender", "birth_date", "id_number", "pending_id_number", "school_id", "subject", "title",
             "education", "employed_on", "joined_school_on", "employment_type", "status", "is_class_teacher"]


TEACHER_IMPORT_FIELDS = [
    "pending_id_number",
    "name",
    "gender",
    "birth_date",
    "id_number",
    "school",
    "subject",
    "title",
    "education",
    "employed_on",
    "joined_school_on",
    "employment_type",
    "status",
    "status_since",
    "is_class_teacher",
]


def visible_teachers_keys(actor, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(visible_teachers(actor).filter(staff_no__in=chunk).values_list("staff_no", flat=True))
    return found


IMPORTERS = {"schools": SchoolImporter, "teachers": TeacherImporter}


def today_local() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()
