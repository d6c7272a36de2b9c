"""Which provider records wait for bureau staff instead of posting (issue 19 item 1; CR-11 with the feed as
the newcomer). training.providers asks these in this order, and the first that answers holds the record:

1. The same project already has a result for the teacher that this (provider, record id) did not write
   (a bureau import, another provider, another record id, or a correction made since this record posted),
   with other values: posting would overwrite it. A result with the same values is no conflict.
2. A recognition claim of the teacher that may still post (school or district review, returned, approved)
   matches by credits.rules.claim_duplicates: the same project code, or the same organiser with
   overlapping dates.
3. A passing result of the teacher in another project matches by the same rule (the same organiser with
   overlapping dates), when the record would count too. Results this provider posted itself do not: its
   own record ids say they are different courses.

2 and 3 apply to new records and to held ones sent again (a record that already posted is not held later
when a claim or another result appears: the claim side, CR-11 on submission, finds the posted row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from credits import rules as credit_rules
from credits.models import Claim, ClaimState

from . import rules
from .models import ProviderRecord, ProviderRecordState, Result

# Claims that may still post (or have posted) hours: a rejected or withdrawn claim does not hold a record.
LIVE_CLAIM_STATES = (ClaimState.SCHOOL_REVIEW, ClaimState.DISTRICT_REVIEW, ClaimState.RETURNED, ClaimState.APPROVED)


@dataclass(frozen=True)
class Hold:
    reason: str  # kept as the record's hold_reason (at most 200 characters) and told to the provider
    claim: Claim | None = None
    result_id: int | None = None


@dataclass(frozen=True)
class Current:
    """The result a (project, teacher) has now."""

    pk: int
    values: tuple  # (grade, completed_on, certified_hours)
    enrolment_id: int


def current_results(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Current]:
    if not pairs:
        return {}
    rows = Result.objects.filter(enrolment__teacher__in={t for _, t in pairs}, enrolment__project__in={p for p, _ in pairs})
    return {(project, teacher): Current(pk, (grade, completed_on, hours), enrolment)
            for pk, project, teacher, grade, completed_on, hours, enrolment in rows.values_list(
                "pk", "enrolment__project_id", "enrolment__teacher_id", "grade", "completed_on", "certified_hours",
                "enrolment_id")
            if (project, teacher) in pairs}


def live_claims(teacher_ids: set[int]) -> dict[int, list[Claim]]:
    found: dict[int, list[Claim]] = {}
    if teacher_ids:
        for claim in Claim.objects.filter(teacher__in=teacher_ids, state__in=LIVE_CLAIM_STATES).order_by("pk"):
            found.setdefault(claim.teacher_id, []).append(claim)
    return found


def other_results(teacher_ids: set[int], *, provider_id: int) -> dict[int, list[credit_rules.PriorRecord]]:
    """The passing results of these teachers as CR-11 priors, less those this provider posted itself."""
    found: dict[int, list[credit_rules.PriorRecord]] = {}
    if not teacher_ids:
        return found
    own = set(ProviderRecord.objects.filter(provider_id=provider_id, teacher__in=teacher_ids, state=ProviderRecordState.POSTED)
              .values_list("project_id", "teacher_id", "grade", "completed_on", "certified_hours"))
    rows = (Result.objects.filter(enrolment__teacher__in=teacher_ids, grade__in=rules.PASSING_GRADES)
            .values_list("pk", "enrolment__teacher_id", "enrolment__project_id", "enrolment__project__code",
                         "enrolment__project__organiser", "enrolment__project__start_on", "enrolment__project__end_on",
                         "enrolment__project__hours", "grade", "completed_on", "certified_hours").order_by("pk"))
    for pk, teacher, project, code, organiser, start_on, end_on, hours, grade, completed_on, certified in rows:
        if (project, teacher, grade, completed_on, certified) in own:
            continue
        found.setdefault(teacher, []).append(credit_rules.PriorRecord(
            kind="result", record_id=pk, project_code=code, certificate_no="", organiser=organiser,
            started_on=start_on, ended_on=_ended(start_on, completed_on or end_on), hours=certified or hours))
    return found


def _ended(start_on: dt.date, ended_on: dt.date) -> dt.date:
    return max(ended_on, start_on)


def hold_for(*, project, grade: str, completed_on: dt.date | None, certified_hours: Decimal | None,
             prior: ProviderRecord | None, current: Current | None, claims: list[Claim],
             results: list[credit_rules.PriorRecord]) -> Hold | None:
    """Why this record (for `project`, with these values; `prior`: this (provider, record id) as stored)
    waits for bureau staff, or None when it may post. `claims` and `results` are the teacher's (empty for
    a record that already posted)."""
    values = (grade, completed_on, certified_hours)
    posted_before = prior is not None and prior.state == ProviderRecordState.POSTED
    if current is not None and current.values != values:
        ours = posted_before and current.values == (prior.grade, prior.completed_on, prior.certified_hours)
        if not ours:
            said = (f"本项目的考核结果已被其他来源改为{current.values[0]}" if posted_before
                    else f"该教师在本项目已有其他来源的考核结果（{current.values[0]}）")
            return Hold(said, result_id=current.pk)
    if posted_before or not (claims or results):
        return None
    facts = credit_rules.ClaimFacts(project_code=project.code, certificate_no="", organiser=project.organiser,
                                    started_on=project.start_on,
                                    ended_on=_ended(project.start_on, completed_on or project.end_on))
    if claims:
        priors = [credit_rules.PriorRecord(kind="claim", record_id=c.pk, project_code=c.project_code,
                                           certificate_no=c.certificate_no, organiser=c.organiser,
                                           started_on=c.started_on, ended_on=c.ended_on, hours=c.hours) for c in claims]
        if matches := credit_rules.claim_duplicates(facts, priors):
            claim = next(c for c in claims if c.pk == matches[0].record.record_id)
            return Hold(f"与该教师的学时认定申请重复（{'、'.join(matches[0].reasons)}）", claim=claim)
    if grade in rules.PASSING_GRADES:
        others = [r for r in results if r.project_code != project.code]
        if matches := credit_rules.claim_duplicates(facts, others):
            match = matches[0]
            return Hold(f"与该教师在项目 {match.record.project_code} 的考核结果重复（{'、'.join(match.reasons)}）",
                        result_id=match.record.record_id)
    return None
