"""Writes of the training part: enrolment with its approval chain and capacity; results (SPEC §3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bureau import versions
from bureau.bulkinsert import insert_history, insert_rows, insert_values, new_instance
from bureau.choices import Role, Status
from bureau.models import Teacher
from bureau.scoping import own_teacher, role_of, visible_teachers
from bureau.services import ApplicationError, audit, event_record, events_record
from bureau.workflow import transition_guard
from credits import rules as credit_rules
from credits.models import LedgerEntry, Source
from credits.posting import Posting, closed_years, ledger_sync, ledger_sync_many, posting_attempts
from credits.selectors import policy_for, school_version_key

from . import rules
from .attendance import attendance_counts
from .certificates import certificate_plan, certificate_sync, new_code
from .enrolment_notices import acknowledge, tell_next
from .models import (
    SEAT_STATES,
    Certificate,
    CertificateStatus,
    Enrolment,
    EnrolmentEvent,
    EnrolmentState,
    Project,
    ProjectEvent,
    ProjectStatus,
    Result,
    SurveyKind,
    SurveyResponse,
)
from .organisers import may_organise
from .projects import school_project_miss
from .selectors import project_audience, seats_taken
from .shares import seat_guard
from .waitlist import waitlist_promote

_audience = project_audience


@transaction.atomic
def enrolment_apply(*, project: Project, teacher, actor, today: dt.date, waitlist: bool = False) -> Enrolment:
    """A teacher applies, or the principal nominates. The project row is locked while the seats are
    counted, so concurrent applications never exceed the capacity. When the project is full, `waitlist`
    puts the teacher on its waiting list (候补中, no seat) instead of refusing (training.waitlist)."""
    role = role_of(actor)
    nominated = role == Role.PRINCIPAL
    if role not in (Role.TEACHER, Role.PRINCIPAL) or not visible_teachers(actor).filter(pk=teacher.pk).exists():
        raise ApplicationError("只能为本人报名，或由本校校长选派。")
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.status != ProjectStatus.ENROLLING:
        raise ApplicationError("该项目当前不在报名期。")
    if project.enrol_opens_on and today < project.enrol_opens_on:
        raise ApplicationError(f"报名将于 {project.enrol_opens_on:%Y-%m-%d} 开始。")
    if project.enrol_closes_on and today > project.enrol_closes_on:
        raise ApplicationError(f"报名已于 {project.enrol_closes_on:%Y-%m-%d} 截止。")
    if teacher.status != Status.ACTIVE:
        raise ApplicationError("只有在职教师可以报名。")
    miss = rules.audience_miss(
        _audience(project),
        stage=teacher.school.stage,
        subject=teacher.subject,
        title=teacher.title,
        district_id=teacher.school.district_id,
    )
    miss = miss or school_project_miss(project, teacher)
    if miss:
        raise ApplicationError(miss)
    if Enrolment.objects.filter(project=project, teacher=teacher).exists():
        raise ApplicationError("已报名该项目，不能重复报名。")
    state = EnrolmentState.APPLIED
    if project.capacity is not None and seats_taken(project.pk) < project.capacity:
        # Seats free while teachers wait (a capacity raised, a share released): the queue goes first.
        if Enrolment.objects.filter(project=project, state=EnrolmentState.WAITLISTED).exists():
            waitlist_promote(project=project, today=today)
    if project.capacity is not None and seats_taken(project.pk) >= project.capacity:
        if not waitlist:
            raise ApplicationError(f"名额已满（共 {project.capacity} 个名额），可以选择加入候补。")
        state = EnrolmentState.WAITLISTED
    enrolment = Enrolment.objects.create(project=project, teacher=teacher, nominated=nominated, applied_by=actor,
                                         state=state)
    action = "waitlist" if state == EnrolmentState.WAITLISTED else "apply"
    event_record(EnrolmentEvent, obj=enrolment, action=action, from_state="", to_state=enrolment.state, actor=actor,
                 reason="校长选派" if nominated else "本人报名")
    audit(action=f"training.enrolment.{'waitlisted' if action == 'waitlist' else 'applied'}", actor=actor,
          obj=enrolment, nominated=nominated)
    if action == "waitlist":
        acknowledge(enrolment, "waitlist")
    else:
        acknowledge(enrolment, "nominate" if nominated else "apply")
        tell_next(enrolment, "apply", actor=actor)
    return enrolment


def _may_act(actor, enrolment: Enrolment, action: str) -> bool:
    role = role_of(actor)
    if action == "withdraw" and role == Role.TEACHER:
        return enrolment.teacher.user_id == actor.pk
    if action in ("school_approve",) or (action == "reject" and enrolment.state == EnrolmentState.APPLIED):
        return role == Role.PRINCIPAL and actor.profile.school_id == enrolment.teacher.school_id
    # The organiser's steps: the project's organiser (training.organisers: bureau staff for every
    # project, district staff for their 县培, the principal for the school's 校本), and district staff
    # for their district's teachers in any project.
    if may_organise(actor, enrolment.project):
        return True
    if role == Role.DISTRICT:
        return actor.profile.district_id == enrolment.teacher.school.district_id
    return False


@transaction.atomic
def enrolment_transition(*, enrolment: Enrolment, action: str, actor, reason: str = "",
                         today: dt.date | None = None) -> Enrolment:
    """Move an enrolment along the chain applied → school approved → approved → attending → completed.

    Locks the project row first, then the enrolment (the order every enrolment write keeps), so a seat
    freed here (a withdrawal, a rejection) goes to the first eligible waiting teacher in the same lock."""
    if action not in rules.TRANSITIONS or action in rules.SYSTEM_ACTIONS:
        raise ApplicationError(f"未知操作：{action}")
    today = today or timezone.localdate()
    project = Project.objects.select_for_update().get(pk=enrolment.project_id)
    enrolment = Enrolment.objects.select_for_update().select_related("teacher__school").get(pk=enrolment.pk)
    enrolment.project = project
    step = transition_guard(rules.TRANSITIONS, action=action, state=enrolment.state,
                            refusal="当前状态为“{state}”，不能执行“{label}”。", state_label=enrolment.get_state_display())
    target = step.to_state
    if not _may_act(actor, enrolment, action):
        raise ApplicationError("您无权执行该操作。")
    if step.needs_reason and not reason.strip():
        raise ApplicationError("审核不通过请填写原因。")
    if action == "approve":
        # 名额分配: the project row is locked while the unit's approved seats are counted.
        seat_guard(project=project, teacher=enrolment.teacher, today=today)
    previous = enrolment.state
    event_record(EnrolmentEvent, obj=enrolment, action=action, from_state=previous, to_state=target, actor=actor,
                 reason=reason)
    enrolment.state = target
    enrolment.save(update_fields=["state", "updated_at"])
    audit(action=f"training.enrolment.{action}", actor=actor, obj=enrolment)
    if action in ("approve", "reject"):
        decided = "已录取" if action == "approve" else f"未通过（{reason.strip()}）"
        acknowledge(enrolment, action, title=f"报名结果：{project.name} {decided}")
    elif action == "school_approve":
        acknowledge(enrolment, action)
        tell_next(enrolment, action, actor=actor)
    if action in rules.SEAT_FREEING_ACTIONS and previous in SEAT_STATES:
        waitlist_promote(project=project, today=today)
    return enrolment


@transaction.atomic
def result_record(
    *,
    project: Project,
    teacher,
    grade: str,
    completed_on: dt.date | None,
    certified_hours: Decimal | None,
    actor,
    today: dt.date | None = None,
    origin: str = "",
) -> tuple[Result, bool]:
    """Record (or change) a teacher's result in a project and post it to the ledger (CR-1, CR-2).

    A result for a teacher with no enrolment creates one: results come from outside platforms that ran
    their own enrolment. Returns the result and whether anything changed.

    Certified hours above the project's hours are refused (CR-10). A passing grade (优秀/合格) set or
    changed here is refused when the enrolment's attendance rate, over the
    sessions held by `today`, is below the project's minimum (training.rules.attendance_short); a result
    saved again unchanged is not checked again, so a re-import changes nothing.

    `origin`: where the result came from when the actor alone does not say it (a provider's record: its
    name and record id), written into the ledger rows' description and the audit entries.
    """
    if refusal := rules.certified_hours_refusal(certified=certified_hours, project_hours=project.hours):
        raise ApplicationError(f"认定学时 {refusal}。")  # CR-10
    minimum = project.min_attendance_rate
    if grade in rules.PASSING_GRADES and minimum is not None:
        _attendance_guard(project=project, teacher=teacher, values=(grade, completed_on, certified_hours),
                          minimum=minimum, today=today or timezone.localdate())
    enrolment, created = Enrolment.objects.get_or_create(
        project=project,
        teacher=teacher,
        defaults={"state": EnrolmentState.COMPLETED, "imported": True, "applied_by": actor},
    )
    if created:
        event_record(EnrolmentEvent, obj=enrolment, action="import", from_state="", to_state=enrolment.state,
                     actor=actor, reason="由考核结果导入")
    result = Result.objects.select_for_update().filter(enrolment=enrolment).first()
    changed = False
    if result is None:
        result = Result.objects.create(
            enrolment=enrolment, grade=grade, completed_on=completed_on, certified_hours=certified_hours, recorded_by=actor
        )
        changed = True
    elif (result.grade, result.completed_on, result.certified_hours) != (grade, completed_on, certified_hours):
        result.grade, result.completed_on, result.certified_hours = grade, completed_on, certified_hours
        result.recorded_by = actor
        result.save()
        changed = True
    if changed and enrolment.state != EnrolmentState.COMPLETED and grade != "未完成":
        event_record(EnrolmentEvent, obj=enrolment, action="result", from_state=enrolment.state,
                     to_state=EnrolmentState.COMPLETED, actor=actor, reason="登记考核结果")
        enrolment.state = EnrolmentState.COMPLETED
        enrolment.save(update_fields=["state", "updated_at"])
    posted = result_post(result_id=result.pk, actor=actor, origin=origin)
    certificate_sync(result_id=result.pk, actor=actor)
    if changed:
        audit(action="training.result.recorded", actor=actor, obj=result, grade=grade, **_origin_data(origin))
    return result, changed or bool(posted)


def _attendance_guard(*, project: Project, teacher, values: tuple, minimum: int, today: dt.date) -> None:
    existing = Result.objects.filter(enrolment__project=project, enrolment__teacher=teacher).first()
    if existing is not None and (existing.grade, existing.completed_on, existing.certified_hours) == values:
        return
    enrolment_id = Enrolment.objects.filter(project=project, teacher=teacher).values_list("pk", flat=True).first()
    present, held = attendance_counts(enrolment_id=enrolment_id, project_id=project.pk, today=today)
    if rules.attendance_short(present=present, held=held, minimum=minimum):
        raise ApplicationError(rules.attendance_refusal(present=present, held=held, minimum=minimum))


def result_post(*, result_id: int, actor, origin: str = "") -> list[LedgerEntry]:
    """CR-1/CR-2: bring the ledger in line with a result, exactly once.

    The result row is locked, so two workers posting the same result take turns and the second finds
    nothing to do; the ledger's unique (source_key, revision) backs it up (credits.posting).
    """
    return posting_attempts(lambda: _result_post_once(result_id, actor, origin), what=f"result {result_id}")


def _result_post_once(result_id: int, actor, origin: str) -> list[LedgerEntry]:
    result = Result.objects.select_for_update().select_related("enrolment__project").get(pk=result_id)
    wanted = _result_wanted(result, result.enrolment.project, teacher_id=result.enrolment.teacher_id, origin=origin)
    written = ledger_sync(source_key=_result_key(result), wanted=wanted, actor=actor,
                          reason=_post_reason(result, origin))
    if written:
        audit(action="training.result.posted", actor=actor, obj=result, rows=[r.pk for r in written], grade=result.grade,
              **_origin_data(origin))
    return written


def _result_key(result: Result) -> str:
    return f"result:{result.enrolment_id}"


def _post_reason(result: Result, origin: str = "") -> str:
    return f"考核结果变更为{result.grade}" + (f"（{origin}）" if origin else "")


def _origin_data(origin: str) -> dict:
    return {"origin": origin} if origin else {}


def _result_wanted(result: Result, project: Project, *, teacher_id: int, policy_of=policy_for,
                   origin: str = "") -> Posting | None:
    """What a result should count in the ledger now (CR-1): the one decision of the single and bulk paths."""
    policy = policy_of((result.completed_on or timezone.localdate()).year)
    credits = credit_rules.project_credits(
        hours=project.hours, credits=project.credits, credits_per_hour=policy.credits_per_hour
    )
    counted = credit_rules.result_posting(
        grade=result.grade,
        completed_on=result.completed_on,
        project_hours=project.hours,
        project_credits=credits,
        certified_hours=result.certified_hours,
    )
    if counted is None:
        return None
    return Posting(
        teacher_id=teacher_id, entry_date=counted.entry_date, hours=counted.hours,
        credits=counted.credits, source=Source.TRAINING_RESULT, mode=project.mode, theme=project.theme,
        project_code=project.code, description=f"{project.name}（{result.grade}）" + (f"；{origin}" if origin else ""),
    )


# --- Many results at once (PERF-6) -------------------------------------------------------------------

RESULT_BATCH = 2000


@dataclass(frozen=True)
class ResultLine:
    """One result to record: what result_record takes, for results_record_many."""

    project: Project
    teacher: Teacher
    grade: str
    completed_on: dt.date | None
    certified_hours: Decimal | None
    origin: str = ""  # as result_record's `origin`


def results_record_many(lines: list[ResultLine], *, actor, closed: frozenset[int] | None = None) -> list[tuple[Result, bool]]:
    """result_record for a batch of results (an import), paid per batch and not per row (PERF-6):
    the same outcome per line (enrolment created when missing, result created or changed, the ledger
    brought in line, certificates issued/revoked, events and audit), with one read of the batch's
    enrolments, results (locked, as result_record locks each), ledger rows and certificates, and bulk
    writes; cache keys are bumped once per key for the whole block (bureau.versions.coalesced).

    Each (project, teacher) once per call. `closed`: closed_years() read once by the caller per import.
    The attendance rule is the caller's to check before (ResultImporter does, in bulk, with the row's
    reason); CR-10 is checked here again. A concurrent writer that wins a unique constraint (the
    ledger's (source_key, revision), one enrolment per project and teacher, one valid certificate per
    result) rolls the batch back to its savepoint and the batch runs again against what is there.
    """
    for line in lines:
        if refusal := rules.certified_hours_refusal(certified=line.certified_hours, project_hours=line.project.hours):
            raise ApplicationError(f"认定学时 {refusal}。")  # CR-10
    with versions.coalesced():
        return posting_attempts(lambda: _results_batch(lines, actor=actor, closed=closed),
                                what=f"{len(lines)} results")


def _results_batch(lines: list[ResultLine], *, actor, closed) -> list[tuple[Result, bool]]:
    now = timezone.now()
    schools = {line.teacher.pk: line.teacher.school_id for line in lines}
    school_of_enrolment: dict[int, int | None] = {}

    def school_keys(row) -> list[str | None]:
        return [school_version_key(school_of_enrolment.get(row.enrolment_id if isinstance(row, Result) else row.pk))]

    pairs = {(line.project.pk, line.teacher.pk) for line in lines}
    if len(pairs) != len(lines):
        raise ValueError("each (project, teacher) once per batch")
    enrolments = {
        (e.project_id, e.teacher_id): e
        for e in Enrolment.objects.filter(project_id__in={p for p, _ in pairs}, teacher_id__in={t for _, t in pairs})
        if (e.project_id, e.teacher_id) in pairs
    }
    actor_id = getattr(actor, "pk", None)
    missing = [new_instance(Enrolment, project_id=line.project.pk, teacher_id=line.teacher.pk,
                            state=EnrolmentState.COMPLETED, imported=True, applied_by_id=actor_id)
               for line in lines if (line.project.pk, line.teacher.pk) not in enrolments]
    if missing:
        insert_rows(Enrolment, missing, keys_of=lambda e: [school_version_key(schools[e.teacher_id])])
        events_record(EnrolmentEvent, [(e, "import", "", e.state) for e in missing], actor=actor, reason="由考核结果导入")
        enrolments.update({(e.project_id, e.teacher_id): e for e in missing})
    for (_, teacher_id), enrolment in enrolments.items():
        school_of_enrolment[enrolment.pk] = schools[teacher_id]
    current = {r.enrolment_id: r for r in Result.objects.select_for_update()
               .filter(enrolment_id__in=[e.pk for e in enrolments.values()]).order_by("pk")}
    created, updated, out = [], [], []
    for line in lines:
        enrolment = enrolments[(line.project.pk, line.teacher.pk)]
        values = (line.grade, line.completed_on, line.certified_hours)
        result = current.get(enrolment.pk)
        if result is None:
            result = new_instance(Result, enrolment_id=enrolment.pk, grade=line.grade, completed_on=line.completed_on,
                                  certified_hours=line.certified_hours, recorded_by_id=actor_id)
            Result.enrolment.field.set_cached_value(result, enrolment)
            created.append(result)
        elif (result.grade, result.completed_on, result.certified_hours) != values:
            result.grade, result.completed_on, result.certified_hours = values
            result.recorded_by, result.updated_at = actor, now
            updated.append(result)
        else:
            out.append((line, enrolment, result, False))
            continue
        out.append((line, enrolment, result, True))
    if created:
        insert_rows(Result, created, keys_of=school_keys)
        _history_many(created, update=False, actor=actor, now=now)
    if updated:
        Result.objects.bulk_update(updated, ["grade", "completed_on", "certified_hours", "recorded_by", "updated_at"],
                                   keys_of=school_keys)
        _history_many(updated, update=True, actor=actor, now=now)
    finishing = [e for line, e, _, changed in out
                 if changed and e.state != EnrolmentState.COMPLETED and line.grade != "未完成"]
    if finishing:
        events_record(EnrolmentEvent, [(e, "result", e.state, EnrolmentState.COMPLETED) for e in finishing],
                      actor=actor, reason="登记考核结果")
        for enrolment in finishing:
            enrolment.state, enrolment.updated_at = EnrolmentState.COMPLETED, now
        Enrolment.objects.bulk_update(finishing, ["state", "updated_at"], keys_of=school_keys)

    policies: dict[int, object] = {}

    def policy_of(year: int):
        if year not in policies:
            policies[year] = policy_for(year)
        return policies[year]

    synced = ledger_sync_many(
        [(_result_key(r), _result_wanted(r, line.project, teacher_id=line.teacher.pk, policy_of=policy_of,
                                         origin=line.origin), _post_reason(r, line.origin)) for line, _, r, _ in out],
        actor=actor, closed=closed, schools=schools,
    )
    _certificates_sync_many([(r, line.project, line.teacher) for line, _, r, _ in out], actor=actor, now=now,
                            policy_of=policy_of)
    _audit_batch("training.results.recorded", [
        {"id": r.pk, "grade": r.grade, "changed": changed, "rows": [row.pk for row in synced[_result_key(r)]],
         **_origin_data(line.origin)}
        for line, _, r, changed in out if changed or synced[_result_key(r)]], actor=actor)
    return [(r, changed or bool(synced[_result_key(r)])) for _, _, r, changed in out]


def results_repost_many(result_ids: list[int], *, actor) -> int:
    """result_post and certificate_sync for many results at once (a project's hours or credits changed:
    training.tasks.repost_results), per batch and not per row, each result locked as result_post locks
    it; the number of ledger rows written. Running it again writes nothing."""

    def batch(ids: list[int]) -> int:
        now = timezone.now()
        results = list(Result.objects.select_for_update(of=("self",)).filter(pk__in=ids)
                       .select_related("enrolment__project", "enrolment__teacher").order_by("pk"))
        schools = {r.enrolment.teacher_id: r.enrolment.teacher.school_id for r in results}
        policies: dict[int, object] = {}

        def policy_of(year: int):
            if year not in policies:
                policies[year] = policy_for(year)
            return policies[year]

        synced = ledger_sync_many(
            [(_result_key(r), _result_wanted(r, r.enrolment.project, teacher_id=r.enrolment.teacher_id,
                                             policy_of=policy_of), _post_reason(r)) for r in results],
            actor=actor, closed=closed, schools=schools)
        _certificates_sync_many([(r, r.enrolment.project, r.enrolment.teacher) for r in results], actor=actor,
                                now=now, policy_of=policy_of)
        _audit_batch("training.results.reposted", [
            {"id": r.pk, "grade": r.grade, "rows": [row.pk for row in synced[_result_key(r)]]}
            for r in results if synced[_result_key(r)]], actor=actor)
        return sum(len(rows) for rows in synced.values())

    closed = closed_years()
    written = 0
    with transaction.atomic(), versions.coalesced():
        for start in range(0, len(result_ids), RESULT_BATCH):
            ids = result_ids[start:start + RESULT_BATCH]
            written += posting_attempts(lambda ids=ids: batch(ids), what=f"{len(ids)} results")
    return written


def _audit_batch(action: str, results: list[dict], *, actor) -> None:
    """One audit row for a batch of results (PERF-6), naming each result written, its grade, whether the
    result changed and the ledger rows posted: what result_record audits per result as
    training.result.recorded and training.result.posted. Who changed each result, and when, is in
    its history too (simple_history), and each ledger row names its author."""
    if results:
        audit(action=action, actor=actor, count=len(results), results=results)


def _history_many(results: list[Result], *, update: bool, actor, now) -> None:
    """The simple_history rows of saved results, as Result.history.bulk_history_create writes them (one
    per result, "+" or "~", by `actor`), in one bulk write and without building history instances."""
    user = actor or Result.history.model.get_default_history_user(results[0])
    insert_history(Result, results, user=user, history_type="~" if update else "+", now=now)


def _certificates_sync_many(items: list[tuple[Result, Project, Teacher]], *, actor, now, policy_of) -> None:
    """certificate_sync for many results (their rows locked by the caller): one read, bulk writes."""
    current = {c.result_id: c for c in Certificate.objects.filter(result_id__in=[r.pk for r, _, _ in items],
                                                                   status=CertificateStatus.VALID)}
    revoke: dict[str, list[int]] = {}
    issue = []
    for result, project, teacher in items:
        held = current.get(result.pk)
        keep, reason, wanted = certificate_plan(result, project, held, policy_of=policy_of)
        if keep:
            continue
        if reason:
            revoke.setdefault(reason, []).append(held.pk)
        if wanted is not None:
            issue.append((new_code(), teacher.pk, result.pk, project.pk, project.name, wanted.hours, wanted.credits,
                          wanted.entry_date))
    for reason, ids in revoke.items():
        Certificate.objects.filter(pk__in=ids).update(status=CertificateStatus.REVOKED, revoked_at=now,
                                                      revoke_reason=reason)
    # a code collision (about 1 in 10^17) retries the batch
    insert_values(Certificate, ["code", "teacher_id", "result_id", "project_id", "title", "hours", "credits",
                                "completed_on"], issue)


@transaction.atomic
def project_transition(*, project: Project, action: str, actor) -> Project:
    """Move a project along its life cycle; only its organiser does this (training.organisers)."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if not may_organise(actor, project):
        raise ApplicationError("只有该项目的主办单位可以变更项目状态。")
    target = transition_guard(rules.PROJECT_TRANSITIONS, action=action, state=project.status,
                              refusal="项目当前为“{state}”，不能执行“{label}”。",
                              state_label=project.get_status_display()).to_state
    previous, project.status = project.status, target
    project.save(update_fields=["status", "updated_at"])
    event_record(ProjectEvent, obj=project, action=action, from_state=previous, to_state=target, actor=actor)
    audit(action=f"training.project.{action}", actor=actor, obj=project, from_status=previous, to_status=target)
    return project


@transaction.atomic
def survey_answer(*, project: Project, kind: str, score: int, comment: str, actor) -> SurveyResponse:
    """A teacher answers the needs survey (before, while enrolled) or the satisfaction survey (after
    completing) once per project."""
    teacher = own_teacher(actor)
    if teacher is None or role_of(actor) != Role.TEACHER:
        raise ApplicationError("只有参训教师本人可以填写问卷。")
    enrolment = Enrolment.objects.filter(project=project, teacher=teacher).first()
    if enrolment is None:
        raise ApplicationError("报名该项目后才能填写问卷。")
    if kind == SurveyKind.SATISFACTION and enrolment.state != EnrolmentState.COMPLETED:
        raise ApplicationError("结业后才能填写满意度调查。")
    if kind == SurveyKind.NEEDS and (
        project.status in (ProjectStatus.FINISHED, ProjectStatus.ARCHIVED) or enrolment.state == EnrolmentState.COMPLETED
    ):
        raise ApplicationError("培训已结束，需求调研已关闭；可以填写满意度调查。")
    if not 1 <= score <= 5:
        raise ApplicationError("评分应为 1 到 5 分。")
    if SurveyResponse.objects.filter(project=project, teacher=teacher, kind=kind).exists():
        raise ApplicationError("已填写过该问卷。")
    return SurveyResponse.objects.create(project=project, teacher=teacher, kind=kind, score=score, comment=comment[:2000])
