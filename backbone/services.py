"""Writes of a selection round (BB-3 as amended), from opening to the award and its re-awards (BB-5);
objections are in objections.py, roster changes after the award (BB-4, BB-5, BB-6) in roster.py.

Each transition is one function with its permission check, its guard on the from-state and its record.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bureau.choices import Role
from bureau.models import District
from bureau.scoping import own_teacher, role_of
from bureau.services import ApplicationError, audit, event_record
from bureau.workflow import Transition, transition_guard
from training.certificates import certificate_end_early, certificate_for_title

from . import rules
from .models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    EntryStatus,
    RosterEntry,
    RosterEvent,
    RoundEvent,
    RoundQuota,
    RoundStatus,
    SelectionRound,
)
from .selectors import check_teacher, may_run_round

TIER_CODE = {"省级": "S", "市级": "C", "县级": "X"}
TYPE_CODE = {"教学名师": "M", "学科带头人": "L", "骨干教师": "G"}
SCORE_MAX = Decimal("100")


def runs_round(actor, round_: SelectionRound, what: str) -> None:
    """BB-3 (amended): bureau staff run any round, a district's staff their district's county rounds."""
    if not may_run_round(actor, round_):
        raise ApplicationError(f"只有组织本次评选的教育局可以{what}。")


ROUND_REFUSAL = "评选当前为“{state}”，不能执行该操作。"
APPLICATION_REFUSAL = "该申报已处理（当前为“{state}”）。"


def _round_locked(round_: SelectionRound, *allowed: str) -> SelectionRound:
    """The round, locked, in one of the `allowed` states (an application's step needs the round open)."""
    round_ = SelectionRound.objects.select_for_update().get(pk=round_.pk)
    if round_.status not in allowed:
        raise ApplicationError(ROUND_REFUSAL.format(state=round_.get_status_display()))
    return round_


def _round_step(round_: SelectionRound, action: str) -> tuple[SelectionRound, Transition]:
    """The round, locked, with the step `action` of rules.ROUND_TRANSITIONS allowed from its state."""
    round_ = SelectionRound.objects.select_for_update().get(pk=round_.pk)
    step = transition_guard(rules.ROUND_TRANSITIONS, action=action, state=round_.status, refusal=ROUND_REFUSAL,
                            state_label=round_.get_status_display())
    return round_, step


def _event(application, action, from_state, actor, note=""):
    event_record(ApplicationEvent, obj=application, action=action, from_state=from_state, to_state=application.status,
                 actor=actor, reason=note)


def _round_event(round_, action, from_state, actor, note=""):
    event_record(RoundEvent, obj=round_, action=action, from_state=from_state, to_state=round_.status, actor=actor,
                 reason=note)


def _names(applications) -> str:
    return "、".join(a.teacher.name for a in applications)


@transaction.atomic
def round_open(*, year: int, tier: str, type_: str, places: int, actor, school_limit: int = 2,
               quotas: list[tuple] = (), district: District | None = None,
               notice_working_days: int = 5) -> SelectionRound:
    """Open a round (BB-3). Bureau staff open any round; a district's staff open county (县级) rounds of
    their own district only. A county round names its district, a city or province round none.
    `quotas`: (district or None, subject or "", places) per unit."""
    role = role_of(actor)
    if role == Role.DISTRICT:
        own = actor.profile.district
        if tier != rules.TIERS[0]:
            raise ApplicationError("区县教育局只能发起本区县的县级评选。")
        if district is not None and district.pk != own.pk:
            raise ApplicationError("区县教育局只能发起本区县的县级评选。")
        district = own
    elif role != Role.BUREAU:
        raise ApplicationError("只有市教育局或区县教育局可以发起评选。")
    problem = rules.round_owner_problem(tier=tier, has_district=district is not None)
    if problem:
        raise ApplicationError(problem)
    if places <= 0:
        raise ApplicationError("认定名额应大于 0。")
    if school_limit <= 0:
        raise ApplicationError("每校推荐名额应大于 0。")
    if not 1 <= notice_working_days <= 30:
        raise ApplicationError("公示期应为 1 至 30 个工作日。")
    units = set()
    for quota_district, subject, n in quotas:
        subject = (subject or "").strip()
        if quota_district is None and not subject:
            raise ApplicationError("名额分配须指定区县或学科。")
        if district is not None and quota_district is not None and quota_district.pk != district.pk:
            raise ApplicationError("县级评选的名额只能分配给本区县（或按学科分配）。")
        if n is None or n <= 0:
            raise ApplicationError("分配的名额应大于 0。")
        unit = (getattr(quota_district, "pk", None), subject)
        if unit in units:
            raise ApplicationError("同一单位的名额只能分配一次。")
        units.add(unit)
    round_ = SelectionRound.objects.create(year=year, tier=tier, type=type_, places=places, school_limit=school_limit,
                                           district=district, notice_working_days=notice_working_days, opened_by=actor)
    for quota_district, subject, n in quotas:
        RoundQuota.objects.create(round=round_, district=quota_district, subject=(subject or "").strip(), places=n)
    _round_event(round_, "open", "", actor, f"{district.name}组织" if district else "")
    audit(action="backbone.round.opened", actor=actor, obj=round_, district=getattr(district, "code", ""))
    return round_


@transaction.atomic
def application_apply(*, round_: SelectionRound, actor) -> Application:
    """A teacher applies; the criteria are checked and every failing one named (BB-2). A county round takes
    the teachers of its district only."""
    teacher = own_teacher(actor)
    if teacher is None or role_of(actor) != Role.TEACHER:
        raise ApplicationError("只有教师本人可以申报。")
    round_ = _round_locked(round_, RoundStatus.OPEN)
    if round_.district_id is not None and teacher.school.district_id != round_.district_id:
        raise ApplicationError(f"本次评选为{round_.district.name}县级评选，只面向该区县的教师。")
    problems = check_teacher(teacher=teacher, year=round_.year, tier=round_.tier, type_=round_.type)
    if problems:
        raise ApplicationError("不符合申报条件：" + "；".join(problems))
    if Application.objects.filter(round=round_, teacher=teacher).exists():
        raise ApplicationError("已申报本次评选。")
    application = Application.objects.create(round=round_, teacher=teacher, school_id=teacher.school_id)
    _event(application, "apply", "", actor)
    return application


@transaction.atomic
def application_recommend(*, application: Application, recommend: bool, actor, note: str = "") -> Application:
    """The school recommends within its limit (the round row is locked while counting)."""
    application = Application.objects.select_related("round").get(pk=application.pk)
    round_ = _round_locked(application.round, RoundStatus.OPEN)
    if role_of(actor) != Role.PRINCIPAL or actor.profile.school_id != application.school_id:
        raise ApplicationError("只有本校校长可以推荐。")
    action = "recommend" if recommend else "not_recommend"
    step = transition_guard(rules.APPLICATION_TRANSITIONS, action=action, state=application.status,
                            refusal="该申报已处理。")
    if recommend:
        taken = Application.objects.filter(round=round_, school_id=application.school_id,
                                           status=ApplicationStatus.RECOMMENDED).count()
        if taken >= round_.school_limit:
            raise ApplicationError(f"本校推荐名额为 {round_.school_limit} 人，已用完。")
    previous, application.status = application.status, step.to_state
    application.save(update_fields=["status"])
    _event(application, action, previous, actor, note)
    return application


@transaction.atomic
def round_start_notice(*, round_: SelectionRound, starts_on: dt.date, actor,
                       today: dt.date | None = None) -> SelectionRound:
    """公示: the recommended candidates are published for the notice period (working days of the State
    Council's calendar, BB-3 amended). It starts today or later: a notice dated in the past would end
    before anyone could read it or object."""
    runs_round(actor, round_, "发布公示")
    round_, step = _round_step(round_, "start_notice")
    if starts_on < (today or timezone.localdate()):
        raise ApplicationError("公示开始日期不能早于今天。")
    if not round_.applications.filter(status=ApplicationStatus.RECOMMENDED).exists():
        raise ApplicationError("还没有学校推荐的候选人。")
    previous, round_.status = round_.status, step.to_state
    round_.notice_starts_on = starts_on
    round_.notice_ends_on = rules.add_working_days(starts_on, round_.notice_working_days)
    round_.save(update_fields=["status", "notice_starts_on", "notice_ends_on"])
    note = f"公示至 {round_.notice_ends_on:%Y-%m-%d}"
    unknown = rules.unknown_calendar_years(starts_on, round_.notice_ends_on)
    if unknown:
        # Told to the staff on the page too (manage_views): the end date may need moving by hand.
        note += f"（{'、'.join(map(str, unknown))}年节假日安排尚未收录，按周一至周五计算）"
    _round_event(round_, "start_notice", previous, actor, note)
    audit(action="backbone.round.notice", actor=actor, obj=round_, ends_on=round_.notice_ends_on.isoformat())
    return round_


@transaction.atomic
def round_start_review(*, round_: SelectionRound, today: dt.date, actor) -> SelectionRound:
    """评审 after the notice period has ended, with more candidates than places (差额)."""
    runs_round(actor, round_, "组织评审")
    round_, step = _round_step(round_, "start_review")
    if today <= round_.notice_ends_on:
        raise ApplicationError(f"公示期至 {round_.notice_ends_on:%Y-%m-%d} 结束，结束后才能评审。")
    candidates = round_.applications.filter(status=ApplicationStatus.RECOMMENDED).count()
    if candidates <= round_.places:
        raise ApplicationError(f"差额评审要求候选人（{candidates} 人）多于名额（{round_.places} 个）。")
    previous, round_.status = round_.status, step.to_state
    round_.save(update_fields=["status"])
    _round_event(round_, "start_review", previous, actor)
    audit(action="backbone.round.review", actor=actor, obj=round_)
    return round_


def score_problem(score: Decimal) -> str | None:
    """A review score is out of 100 with at most two decimals."""
    if score < 0 or score > SCORE_MAX:
        return f"得分应在 0 至 {SCORE_MAX} 之间"
    if score != score.quantize(Decimal("0.01")):
        return "得分最多保留两位小数"
    return None


@transaction.atomic
def review_score(*, round_: SelectionRound, scores: dict[int, Decimal | None], actor) -> int:
    """Record the reviewers' scores of candidates (application pk -> score; None clears one). Typed on the
    scoring page or imported from a score sheet; each change is recorded. Returns how many changed."""
    runs_round(actor, round_, "评分")
    round_ = _round_locked(round_, RoundStatus.REVIEW)
    candidates = {a.pk: a for a in round_.applications.filter(status=ApplicationStatus.RECOMMENDED)
                  .select_related("teacher")}
    unknown = set(scores) - set(candidates)
    if unknown:
        raise ApplicationError("只能为本次评选的候选人评分。")
    changed = 0
    for pk, score in scores.items():
        if score is not None:
            problem = score_problem(score)
            if problem:
                raise ApplicationError(f"{candidates[pk].teacher.name}：{problem}。")
        application = candidates[pk]
        if score is not None:
            score = score.quantize(Decimal("0.01"))
        if application.score == score:
            continue
        application.score = score
        application.save(update_fields=["score"])
        _event(application, "score", application.status, actor, f"得分 {score}" if score is not None else "清除得分")
        changed += 1
    if changed:
        audit(action="backbone.round.scored", actor=actor, obj=round_, changed=changed)
    return changed


def held_by_objection(applications) -> list[Application]:
    """The applications that an open objection holds (BB-3 amended)."""
    return [a for a in applications if any(o.is_open for o in a.objections.all())]


@transaction.atomic
def review_select(*, round_: SelectionRound, actor, scores: dict[int, Decimal] | None = None) -> list[Application]:
    """确定入围: by score, within the round's places and each district's and subject's quota (rules.shortlist);
    the shortlisted become trainees (培养对象), the others are not selected. Refused while an objection holds
    a candidate, while a candidate has no score, and when equal scores straddle the last place."""
    runs_round(actor, round_, "确定入围名单")
    if scores is not None:
        review_score(round_=round_, scores=scores, actor=actor)
    round_, step = _round_step(round_, "select")
    shortlist, not_select = rules.APPLICATION_TRANSITIONS["shortlist"], rules.APPLICATION_TRANSITIONS["not_select"]
    candidates = list(round_.applications.filter(status__in=shortlist.from_states & not_select.from_states)
                      .select_related("teacher", "school").prefetch_related("objections").order_by("pk"))
    held = held_by_objection(candidates)
    if held:
        raise ApplicationError(f"公示异议尚未处理（{_names(held)}），处理后才能确定入围名单。")
    unscored = [a for a in candidates if a.score is None]
    if unscored:
        raise ApplicationError(f"请先为每位候选人评分（未评分：{_names(unscored)}）。")
    quotas = [rules.Quota(q.district_id, q.subject, q.places) for q in round_.quotas.all()]
    result = rules.shortlist(
        [rules.Scored(a.pk, a.score, a.school.district_id, a.teacher.subject) for a in candidates],
        places=round_.places, quotas=quotas)
    if result.tied:
        tied = [a for a in candidates if a.pk in result.tied]
        raise ApplicationError(f"{_names(tied)}得分相同（{tied[0].score}），名额不足以全部入围，"
                               "请评审组确定先后并调整得分。")
    chosen = set(result.chosen)
    by_pk = {a.pk: a for a in candidates}
    ranked = [by_pk[pk] for pk in result.chosen] + sorted(
        (a for a in candidates if a.pk not in chosen), key=lambda a: (-a.score, a.pk))
    for application in ranked:
        action = "shortlist" if application.pk in chosen else "not_select"
        previous = application.status
        application.status = rules.APPLICATION_TRANSITIONS[action].to_state
        application.save(update_fields=["status"])
        _event(application, action, previous, actor, f"得分 {application.score}")
    previous, round_.status = round_.status, step.to_state
    round_.save(update_fields=["status"])
    _round_event(round_, "select", previous, actor, f"入围 {len(chosen)} 人")
    audit(action="backbone.round.selected", actor=actor, obj=round_, trainees=len(chosen))
    return [by_pk[pk] for pk in result.chosen]


@transaction.atomic
def training_assess(*, application: Application, passed: bool, actor, reason: str = "") -> Application:
    """培养考核 (BB-3 amended): a trainee passes, or is dropped (淘汰) with the reason. An open objection
    holds the trainee: it is resolved first."""
    application = Application.objects.select_related("round", "teacher").get(pk=application.pk)
    runs_round(actor, application.round, "登记培养考核")
    _round_locked(application.round, RoundStatus.TRAINING)
    application = Application.objects.select_for_update().select_related("teacher").get(pk=application.pk)
    action = "pass_training" if passed else "drop"
    step = transition_guard(rules.APPLICATION_TRANSITIONS, action=action, state=application.status,
                            refusal=APPLICATION_REFUSAL, state_label=application.get_status_display())
    reason = (reason or "").strip()
    if step.needs_reason and not reason:
        raise ApplicationError("淘汰须填写理由。")
    if len(reason) > 200:
        raise ApplicationError("理由不超过 200 字。")
    if application.objections.filter(finding="").exists():
        raise ApplicationError(f"{application.teacher.name}有尚未处理的公示异议，处理后才能登记培养考核。")
    previous, application.status, application.outcome_note = application.status, step.to_state, reason
    application.save(update_fields=["status", "outcome_note"])
    _event(application, action, previous, actor, reason)
    audit(action=f"backbone.trainee.{'passed' if passed else 'dropped'}", actor=actor, obj=application)
    return application


def _end_current_title(*, teacher, tier: str, type_: str, awarded_on: dt.date, new_no: str, actor) -> None:
    """BB-5 (amended): a holder of the same tier and type awarded again. Before expiry the old entry ends
    as re-awarded on the new award date; on or after its expiry (the nightly job not yet run) it lapses."""
    for old in RosterEntry.objects.select_for_update().filter(teacher=teacher, tier=tier, type=type_,
                                                                  status=EntryStatus.ACTIVE):
        action = "lapse" if old.expires_on <= awarded_on else "reaward"
        previous = old.status
        old.status, old.allowance = rules.ROSTER_TRANSITIONS[action].to_state, False
        old.ended_on = None if action == "lapse" else awarded_on
        old.save(update_fields=["status", "allowance", "ended_on"])
        if action == "reaward" and old.certificate_id:
            certificate_end_early(certificate_id=old.certificate_id, ends_on=awarded_on)
        reason = f"{old.expires_on:%Y-%m-%d} 到期" if action == "lapse" else f"重新认定（新证书 {new_no}）"
        event_record(RosterEvent, obj=old, action=action, from_state=previous, to_state=old.status, actor=actor,
                     reason=reason)


@transaction.atomic
def round_award(*, round_: SelectionRound, awarded_on: dt.date, actor) -> list[RosterEntry]:
    """认定: those who passed the training assessment get certificates and roster entries (BB-1); a current
    holder of the same title is re-awarded (BB-5). Refused while a trainee is unassessed or an objection
    holds one who passed."""
    runs_round(actor, round_, "认定")
    round_, step = _round_step(round_, "award")
    unassessed = list(round_.applications.filter(status=ApplicationStatus.TRAINEE).select_related("teacher"))
    if unassessed:
        raise ApplicationError(f"还有培养对象未登记培养考核（{_names(unassessed)}）。")
    if round_.notice_ends_on and awarded_on <= round_.notice_ends_on:
        raise ApplicationError(f"认定日期应在公示期（至 {round_.notice_ends_on:%Y-%m-%d}）结束之后。")
    award = rules.APPLICATION_TRANSITIONS["award"]
    passed = list(round_.applications.filter(status__in=award.from_states).select_related("teacher")
                  .prefetch_related("objections").order_by("pk"))
    held = held_by_objection(passed)
    if held:
        raise ApplicationError(f"公示异议尚未处理（{_names(held)}），处理后才能认定。")
    entries = []
    # County rounds of several districts award at once: the district's code keeps their numbers apart.
    district = round_.district.code if round_.district_id else ""
    prefix = f"{round_.year}{TIER_CODE[round_.tier]}{district}{TYPE_CODE[round_.type]}"
    issued = RosterEntry.objects.filter(certificate_no__startswith=prefix).count()
    for application in passed:
        issued += 1
        number = f"{prefix}{issued:04d}"
        _end_current_title(teacher=application.teacher, tier=round_.tier, type_=round_.type, awarded_on=awarded_on,
                           new_no=number, actor=actor)
        entry = RosterEntry.objects.create(
            teacher=application.teacher, tier=round_.tier, type=round_.type, certificate_no=number,
            awarded_on=awarded_on, expires_on=rules.expires_on(awarded_on), school_at_award_id=application.teacher.school_id,
            round=round_,
        )
        event_record(RosterEvent, obj=entry, action="award", from_state="", to_state=entry.status, actor=actor,
                     reason=str(round_))
        entry.certificate = certificate_for_title(teacher=entry.teacher, title=f"{entry.tier}{entry.type}",
                                                  completed_on=entry.awarded_on, expires_on=entry.expires_on)
        entry.save(update_fields=["certificate"])
        previous, application.status = application.status, award.to_state
        application.save(update_fields=["status"])
        _event(application, "award", previous, actor, entry.certificate_no)
        entries.append(entry)
    previous, round_.status = round_.status, step.to_state
    round_.save(update_fields=["status"])
    _round_event(round_, "award", previous, actor, f"认定 {len(entries)} 人")
    audit(action="backbone.round.awarded", actor=actor, obj=round_, entries=len(entries))
    return entries
