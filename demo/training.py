"""Training history for the demo city: projects, enrolments, results and their ledger rows.

Written in bulk for speed; every ledger row is what training.services.result_post would have posted for
the result (CR-1), with the same source_key and revision, so later edits go through the service as usual.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction

from bureau.choices import Status
from bureau.models import Teacher
from credits import rules
from credits.models import Source
from credits.posting import Posting, ledger_bulk_start
from training.certificates import new_code
from training.models import Certificate, Enrolment, EnrolmentState, Project, ProjectStatus, Result
from training.rules import issues_certificates

PROJECTS = [
    # (name, level, mode, kind, theme, hours, credits or None)
    ("国培计划—乡村教师能力提升", "国培", "混合式", "必修", "学科教学", 60, 24),
    ("省级骨干教师高级研修", "省培", "集中面授", "选修", "学科教学", 40, 16),
    ("师德师风专题培训", "市培", "网络研修", "必修", "师德", 12, None),
    ("信息技术应用能力提升工程2.0", "市培", "网络研修", "必修", "信息技术", 30, None),
    ("班主任专业能力培训", "县培", "集中面授", "选修", "班主任", 24, None),
    ("新教师入职培训", "县培", "集中面授", "必修", "新教师", 40, None),
    ("校本研修—课堂教学改进", "校本", "校本研修", "必修", "学科教学", 16, None),
    ("校本研修—师德案例研讨", "校本", "校本研修", "必修", "师德", 8, None),
    ("学科教学能力提升（网络研修）", "县培", "网络研修", "选修", "学科教学", 20, None),
    ("中小学管理干部培训", "市培", "集中面授", "选修", "管理", 32, None),
]
GRADES = [("优秀", 18), ("合格", 74), ("不合格", 5), ("未完成", 3)]


def _pick(rng, weighted):
    items, weights = zip(*weighted)
    return rng.choices(items, weights=weights)[0]


@transaction.atomic
def build_demo_training(*, seed: int, today: dt.date) -> dict:
    rng = random.Random(seed + 1)
    years = [today.year - 2, today.year - 1, today.year]
    projects: list[Project] = []
    for year in years:
        for index, (name, level, mode, kind, theme, hours, credits) in enumerate(PROJECTS):
            start = dt.date(year, 3 + index % 8, 1 + index)
            if year == today.year and start >= today:
                start = dt.date(year, 1 + index % 8, 10)
            end = start + dt.timedelta(days=2 if mode == "集中面授" else 20)
            projects.append(
                Project(
                    code=f"{year}-{index + 1:02d}",
                    name=f"{year}年{name}",
                    level=level,
                    mode=mode,
                    kind=kind,
                    theme=theme,
                    hours=Decimal(hours),
                    credits=None if credits is None else Decimal(credits),
                    start_on=start,
                    end_on=min(end, today),
                    organiser="市教师发展中心" if level in ("国培", "省培", "市培") else "区县教师进修学校",
                    status=ProjectStatus.FINISHED,
                )
            )
    for index, (name, level, mode, kind, theme, hours, credits) in enumerate(PROJECTS[:4]):
        start = today + dt.timedelta(days=20 + 7 * index)
        projects.append(
            Project(
                code=f"{today.year + 1}-{index + 1:02d}",
                name=f"{today.year + 1}年{name}",
                level=level, mode=mode, kind=kind, theme=theme, hours=Decimal(hours),
                credits=None if credits is None else Decimal(credits),
                start_on=start, end_on=start + dt.timedelta(days=3), organiser="市教师发展中心",
                capacity=rng.choice([30, 50, 80, None]), status=ProjectStatus.ENROLLING,
                enrol_opens_on=today - dt.timedelta(days=10), enrol_closes_on=start - dt.timedelta(days=5),
            )
        )
    Project.objects.bulk_create(projects)
    finished = [p for p in projects if p.status == ProjectStatus.FINISHED]
    by_year = {year: [p for p in finished if p.start_on.year == year] for year in years}

    teachers = list(Teacher.objects.filter(status=Status.ACTIVE).values_list("pk", "employed_on"))
    enrolments, results, pending = [], [], []
    for teacher_id, employed_on in teachers:
        diligence = rng.random()  # some teachers train much less than others
        for year in years:
            if employed_on.year > year:
                continue
            count = rng.randint(4, 6) if diligence > 0.12 else rng.randint(0, 3)
            for project in rng.sample(by_year[year], min(count, len(by_year[year]))):
                grade = _pick(rng, GRADES)
                enrolments.append(Enrolment(project=project, teacher_id=teacher_id, state=EnrolmentState.COMPLETED, imported=True))
                pending.append((project, teacher_id, grade))
    Enrolment.objects.bulk_create(enrolments, batch_size=5000)
    ledger = []
    for enrolment, (project, teacher_id, grade) in zip(enrolments, pending):
        completed = project.end_on if grade != "未完成" else None
        results.append(Result(enrolment=enrolment, grade=grade, completed_on=completed))
        credits = rules.project_credits(hours=project.hours, credits=project.credits, credits_per_hour=Decimal(1))
        posting = rules.result_posting(
            grade=grade, completed_on=completed, project_hours=project.hours, project_credits=credits, certified_hours=None
        )
        if posting:
            ledger.append((f"result:{enrolment.pk}", Posting(
                teacher_id=teacher_id, entry_date=posting.entry_date, hours=posting.hours, credits=posting.credits,
                source=Source.TRAINING_RESULT, mode=project.mode, theme=project.theme, project_code=project.code,
                description=f"{project.name}（{grade}）",
            )))
    Result.objects.bulk_create(results, batch_size=5000)
    ledger_bulk_start(ledger)
    certificates = []
    for result, (project, teacher_id, grade) in zip(results, pending):
        if result.completed_on and grade in ("优秀", "合格") and issues_certificates(level=project.level,
                                                                                   setting=project.issues_certificates):
            credits = rules.project_credits(hours=project.hours, credits=project.credits, credits_per_hour=Decimal(1))
            certificates.append(Certificate(code=new_code(), teacher_id=teacher_id, result=result, project=project,
                                            title=project.name, hours=project.hours, credits=credits,
                                            completed_on=result.completed_on))
    Certificate.objects.bulk_create(certificates, batch_size=5000)
    return {"projects": len(projects), "results": len(results), "ledger": len(ledger)}
