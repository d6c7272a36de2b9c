"""Issue 19 item 1: training providers push completion records (the provider API, training.provider_api).

Every record is idempotent on (provider, record id) and posts through the same result path as an import
(training.services.results_record_many, or result_record where the attendance rule applies), so the ledger
(CR-1, CR-2), certificates and the closed-year holds (CR-9) apply unchanged. A record that matches a
recognition claim of the same teacher (CR-11: same project code, or same organiser with overlapping dates)
is held for bureau staff instead of posting twice. 身份证号 is used to find the teacher and never kept,
echoed or logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from bureau import versions
from bureau.models import Teacher
from bureau.services import ApplicationError, audit
from credits import rules as credit_rules
from credits.models import Claim, ClaimState
from credits.posting import closed_years

from . import rules
from .models import Project, Provider, ProviderCourse, ProviderRecord, ProviderRecordState, Result
from .services import RESULT_BATCH, ResultLine, result_record, results_record_many

MAX_RECORDS = 10_000
GRADES = ("优秀", "合格", "不合格", "未完成")
# Claims that may still post (or have posted) hours: a rejected or withdrawn claim does not hold a record.
LIVE_CLAIM_STATES = (ClaimState.SCHOOL_REVIEW, ClaimState.DISTRICT_REVIEW, ClaimState.RETURNED, ClaimState.APPROVED)


# --- keys ---------------------------------------------------------------------------------------------

def _digest(key: str) -> str:
    # A key is 40 random bytes: a plain SHA-256 is enough (no password to stretch), and constant per key.
    return hashlib.sha256(key.encode()).hexdigest()


def provider_key_issue(*, provider: Provider, actor) -> str:
    """(Re)issue the provider's API key: returns the key, to be shown once; only its hash is kept, and the
    previous key stops working."""
    prefix = secrets.token_hex(4)
    key = f"{prefix}.{secrets.token_urlsafe(40)}"
    with transaction.atomic():
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        locked.key_prefix, locked.key_hash, locked.key_issued_at = prefix, _digest(key), timezone.now()
        locked.save(update_fields=["key_prefix", "key_hash", "key_issued_at"])
        audit(action="training.provider.key_issued", actor=actor, obj=locked)
    provider.key_prefix, provider.key_hash = locked.key_prefix, locked.key_hash
    return key


def provider_for_key(key: str) -> Provider | None:
    """The provider whose key this is (active or not), or None."""
    prefix, _, _ = key.partition(".")
    if not prefix or not key:
        return None
    digest = _digest(key)
    for provider in Provider.objects.filter(key_prefix=prefix).exclude(key_hash=""):
        if secrets.compare_digest(provider.key_hash, digest):
            return provider
    return None


# --- OAuth2 client credentials (the second way in) ----------------------------------------------------

def provider_oauth_client_issue(*, provider: Provider, actor) -> tuple[str, str]:
    """(Re)issue the provider's OAuth2 client (client credentials grant): returns (client_id, client_secret),
    the secret to be shown once; django-oauth-toolkit keeps only its hash. A previous client is deleted,
    and with it every access token it was given."""
    application_model = get_application_model()
    secret = generate_client_secret()
    with transaction.atomic():
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        if locked.oauth_application_id:
            application_model.objects.filter(pk=locked.oauth_application_id).delete()
        application = application_model.objects.create(
            name=f"培训机构 {locked.name}"[:255], user=None, redirect_uris="",
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret, hash_client_secret=True, skip_authorization=True)
        locked.oauth_application = application
        locked.save(update_fields=["oauth_application"])
        audit(action="training.provider.oauth_client_issued", actor=actor, obj=locked, client_id=application.client_id)
    provider.oauth_application = application
    return application.client_id, secret


def provider_oauth_client_revoke(*, provider: Provider, actor) -> int:
    """Withdraw the provider's OAuth2 client: the client and its tokens are deleted (an access token stops
    working at once). Returns how many clients went (0 or 1)."""
    with transaction.atomic():
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        if not locked.oauth_application_id:
            return 0
        get_application_model().objects.filter(pk=locked.oauth_application_id).delete()
        audit(action="training.provider.oauth_client_revoked", actor=actor, obj=locked)
    provider.oauth_application = None
    return 1


def provider_for_application(application_id: int) -> Provider | None:
    """The provider an OAuth2 client stands for (active or not), or None."""
    return Provider.objects.filter(oauth_application_id=application_id).first()


# --- records ------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    record_id: str
    outcome: str  # created / updated / unchanged / held / refused
    reason: str = ""


@dataclass
class _Parsed:
    index: int
    record_id: str
    project: Project
    teacher: Teacher
    grade: str
    completed_on: dt.date | None
    certified_hours: Decimal | None

    @property
    def values(self) -> tuple:
        return (self.project.pk, self.teacher.pk, self.grade, self.completed_on, self.certified_hours)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _provider_projects(provider: Provider) -> set[int]:
    q = Q(pk__in=provider.projects.values("pk"))
    if provider.organiser:
        q |= Q(organiser=provider.organiser)
    return set(Project.objects.filter(q).values_list("pk", flat=True))


def provider_records_post(*, provider: Provider, records: list[dict]) -> list[Outcome]:
    """Post a provider's batch (at most MAX_RECORDS): one outcome per record, in order."""
    if len(records) > MAX_RECORDS:
        raise ApplicationError(f"每批最多 {MAX_RECORDS} 条记录。")
    outcomes: list[Outcome | None] = [None] * len(records)

    # 1. look up what the batch names, in bulk
    codes = {_text(r.get("project_code")) for r in records if isinstance(r, dict)} - {""}
    course_ids = {_text(r.get("course_id")) for r in records if isinstance(r, dict)} - {""}
    staff_nos = {_text(r.get("staff_no")) for r in records if isinstance(r, dict)} - {""}
    id_numbers = {_text(r.get("id_number")).upper() for r in records if isinstance(r, dict)} - {""}
    projects = {p.code: p for p in Project.objects.filter(code__in=codes)}
    courses = {c.external_id: c.project for c in
               ProviderCourse.objects.filter(provider=provider, external_id__in=course_ids).select_related("project")}
    teachers_by_no = {t.staff_no: t for t in Teacher.objects.filter(staff_no__in=staff_nos)}
    teachers_by_id = {t.id_number: t for t in Teacher.objects.filter(id_number__in=id_numbers)}
    allowed = _provider_projects(provider)

    parsed: list[_Parsed] = []
    seen_ids: set[str] = set()
    seen_pairs: set[tuple[int, int]] = set()
    for index, raw in enumerate(records):
        record_id = _text(raw.get("record_id")) if isinstance(raw, dict) else ""
        reason, item = _parse(raw, record_id, projects, courses, teachers_by_no, teachers_by_id, allowed)
        if not reason and record_id in seen_ids:
            reason = "同一批次中机构记录编号重复。"
        if not reason and (item.project.pk, item.teacher.pk) in seen_pairs:
            reason = "同一批次中同一教师同一项目出现多次。"
        if reason:
            outcomes[index] = Outcome(record_id, "refused", reason)
            continue
        seen_ids.add(record_id)
        seen_pairs.add((item.project.pk, item.teacher.pk))
        item.index = index
        parsed.append(item)

    closed = closed_years()
    with transaction.atomic():
        # One call of a provider at a time: a feed sent twice at once waits, then finds its records unchanged.
        Provider.objects.select_for_update().filter(pk=provider.pk).values_list("pk", flat=True).first()
        existing = {r.record_id: r for r in ProviderRecord.objects.select_for_update()
                    .filter(provider=provider, record_id__in=[p.record_id for p in parsed])}
        claims = _live_claims({p.teacher.pk for p in parsed if p.record_id not in existing
                               or existing[p.record_id].state == ProviderRecordState.HELD})
        results = _existing_results(parsed)
        to_post: list[_Parsed] = []
        singles: list[_Parsed] = []
        held: list[tuple[_Parsed, Claim, str]] = []
        for item in parsed:
            prior = existing.get(item.record_id)
            if prior is not None and prior.state == ProviderRecordState.REJECTED:
                unchanged = _values(prior) == item.values
                outcomes[item.index] = Outcome(item.record_id, "unchanged" if unchanged else "refused",
                                               "" if unchanged else "该记录已被市教育局驳回，如有异议请联系市教育局。")
                continue
            if prior is not None and (prior.project_id, prior.teacher_id) != (item.project.pk, item.teacher.pk):
                outcomes[item.index] = Outcome(item.record_id, "refused",
                                               "同一机构记录编号不能改换教师或项目；如原记录有误，请联系市教育局更正。")
                continue
            if prior is not None and _values(prior) == item.values:
                outcomes[item.index] = Outcome(item.record_id, "held" if prior.state == ProviderRecordState.HELD
                                               else "unchanged")
                continue
            if prior is None or prior.state == ProviderRecordState.HELD:
                match = _claim_match(item, claims.get(item.teacher.pk, []))
                if match is not None:
                    held.append((item, *match))
                    continue
            if item.grade in rules.PASSING_GRADES and item.project.min_attendance_rate is not None:
                singles.append(item)
            else:
                to_post.append(item)

        posted: list[_Parsed] = []
        # The cache keys are bumped once for the whole call, not once per batch (as an import does, PERF-6).
        with versions.coalesced():
            for start in range(0, len(to_post), RESULT_BATCH):
                lines_for = to_post[start:start + RESULT_BATCH]
                lines = [ResultLine(project=p.project, teacher=p.teacher, grade=p.grade, completed_on=p.completed_on,
                                    certified_hours=p.certified_hours) for p in lines_for]
                for item, (_, changed) in zip(lines_for, results_record_many(lines, actor=None, closed=closed)):
                    outcomes[item.index] = _posted_outcome(item, existing, results, changed)
                    posted.append(item)
            for item in singles:  # the attendance rule (training.services.result_record checks it)
                try:
                    with transaction.atomic():
                        _, changed = result_record(project=item.project, teacher=item.teacher, grade=item.grade,
                                                   completed_on=item.completed_on, certified_hours=item.certified_hours,
                                                   actor=None)
                except ApplicationError as exc:
                    outcomes[item.index] = Outcome(item.record_id, "refused", str(exc))
                    continue
                outcomes[item.index] = _posted_outcome(item, existing, results, changed)
                posted.append(item)

        _store(provider, existing, posted, held)
        for item, _claim, why in held:
            outcomes[item.index] = Outcome(item.record_id, "held", f"与该教师的学时认定申请重复（{why}），待市教育局核查。")
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
        audit(action="training.provider.records_posted", actor=None, obj=provider, received=len(records), **counts)
    return outcomes  # type: ignore[return-value]


def _parse(raw, record_id, projects, courses, teachers_by_no, teachers_by_id, allowed) -> tuple[str, Any]:
    if not isinstance(raw, dict):
        return "记录格式不正确。", None
    if not record_id or len(record_id) > 200:
        return "缺少机构记录编号（record_id），或超过 200 个字符。", None
    if raw.get("_refusal"):
        return raw["_refusal"], None
    code, course = _text(raw.get("project_code")), _text(raw.get("course_id"))
    project = projects.get(code) or courses.get(course)
    if project is None:
        if not code and not course:
            return "缺少项目编号（project_code）或机构课程编号（course_id）。", None
        return ("项目编号不存在。" if code else "机构课程编号未登记对应的培训项目。"), None
    if project.pk not in allowed:
        return "该项目不属于本机构承办，不能推送。", None
    staff_no, id_number = _text(raw.get("staff_no")), _text(raw.get("id_number")).upper()
    teacher = teachers_by_no.get(staff_no) if staff_no else teachers_by_id.get(id_number) if id_number else None
    if teacher is None:
        return ("缺少教师工号或身份证号。" if not staff_no and not id_number else "未找到该教师。"), None
    grade = raw.get("grade")
    if grade not in GRADES:
        return "考核结果须为 优秀、合格、不合格 或 未完成。", None
    completed_on = None
    if raw.get("completed_on") not in (None, ""):
        completed_on = parse_date(raw["completed_on"]) if isinstance(raw["completed_on"], str) else None
        if completed_on is None:
            return "完成日期格式不正确（应为 YYYY-MM-DD）。", None
    if grade in rules.PASSING_GRADES and completed_on is None:
        return "考核结果为优秀或合格时须填写完成日期。", None
    hours = None
    if raw.get("certified_hours") not in (None, "") and grade in rules.PASSING_GRADES:
        try:
            hours = Decimal(str(raw["certified_hours"])).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            return "认定学时须为数字。", None
        if not hours.is_finite() or hours < 0:
            return "认定学时须为非负数。", None
        if refusal := rules.certified_hours_refusal(certified=hours, project_hours=project.hours):
            return f"认定学时 {refusal}。", None  # CR-10
    return "", _Parsed(0, record_id, project, teacher, grade, completed_on, hours)


def _values(record: ProviderRecord) -> tuple:
    return (record.project_id, record.teacher_id, record.grade, record.completed_on, record.certified_hours)


def _existing_results(parsed: list[_Parsed]) -> set[tuple[int, int]]:
    teachers = {p.teacher.pk for p in parsed}
    projects = {p.project.pk for p in parsed}
    return set(Result.objects.filter(enrolment__teacher__in=teachers, enrolment__project__in=projects)
               .values_list("enrolment__project_id", "enrolment__teacher_id"))


def _posted_outcome(item: _Parsed, existing: dict, results: set, changed: bool) -> Outcome:
    if (item.project.pk, item.teacher.pk) not in results:
        return Outcome(item.record_id, "created")
    return Outcome(item.record_id, "updated" if changed else "unchanged")


def _live_claims(teacher_ids: set[int]) -> dict[int, list[Claim]]:
    found: dict[int, list[Claim]] = {}
    if teacher_ids:
        for claim in Claim.objects.filter(teacher__in=teacher_ids, state__in=LIVE_CLAIM_STATES):
            found.setdefault(claim.teacher_id, []).append(claim)
    return found


def _claim_match(item: _Parsed, claims: list[Claim]) -> tuple[Claim, str] | None:
    """CR-11 as credits.rules.claim_duplicates says it, with the record as the new fact and the teacher's
    claims as what they already have."""
    if not claims:
        return None
    facts = credit_rules.ClaimFacts(project_code=item.project.code, certificate_no="", organiser=item.project.organiser,
                                    started_on=item.project.start_on,
                                    ended_on=max(item.completed_on or item.project.end_on, item.project.start_on))
    priors = [credit_rules.PriorRecord(kind="claim", record_id=c.pk, project_code=c.project_code,
                                       certificate_no=c.certificate_no, organiser=c.organiser, started_on=c.started_on,
                                       ended_on=c.ended_on, hours=c.hours) for c in claims]
    matches = credit_rules.claim_duplicates(facts, priors)
    if not matches:
        return None
    by_id = {c.pk: c for c in claims}
    return by_id[matches[0].record.record_id], "、".join(matches[0].reasons)


def _store(provider, existing, posted: list[_Parsed], held: list[tuple[_Parsed, Claim, str]]) -> None:
    new, changed = [], []
    rows = [(p, ProviderRecordState.POSTED, None, "") for p in posted] + [(p, ProviderRecordState.HELD, c, w) for p, c, w in held]
    for item, state, claim, why in rows:
        record = existing.get(item.record_id) or ProviderRecord(provider=provider, record_id=item.record_id)
        record.project, record.teacher, record.grade = item.project, item.teacher, item.grade
        record.completed_on, record.certified_hours, record.state = item.completed_on, item.certified_hours, state
        record.claim, record.hold_reason = claim, why[:200]
        (changed if record.pk else new).append(record)
    ProviderRecord.objects.bulk_create(new, batch_size=2000)
    if changed:
        now = timezone.now()
        for record in changed:
            record.updated_at = now
        ProviderRecord.objects.bulk_update(changed, ["project", "teacher", "grade", "completed_on", "certified_hours",
                                                     "state", "claim", "hold_reason", "updated_at"], batch_size=2000)


# --- held records: bureau staff decide ------------------------------------------------------------------

def provider_record_release(*, record_id: int, actor, reason: str) -> ProviderRecord:
    """A held record is not a duplicate after all: post it (result_record, so every rule applies)."""
    with transaction.atomic():
        record = ProviderRecord.objects.select_for_update().select_related("project", "teacher").get(pk=record_id)
        if record.state != ProviderRecordState.HELD:
            raise ApplicationError("该记录不在待核查状态。")
        result_record(project=record.project, teacher=record.teacher, grade=record.grade,
                      completed_on=record.completed_on, certified_hours=record.certified_hours, actor=actor)
        record.state, record.decided_by, record.decision_reason = ProviderRecordState.POSTED, actor, reason.strip()[:200]
        record.save(update_fields=["state", "decided_by", "decision_reason", "updated_at"])
        audit(action="training.provider.record_released", actor=actor, obj=record)
    return record


def provider_record_reject(*, record_id: int, actor, reason: str) -> ProviderRecord:
    """A held record duplicates the claim: it never posts. A reason is required."""
    if not reason.strip():
        raise ApplicationError("请填写驳回原因。")
    with transaction.atomic():
        record = ProviderRecord.objects.select_for_update().get(pk=record_id)
        if record.state != ProviderRecordState.HELD:
            raise ApplicationError("该记录不在待核查状态。")
        record.state, record.decided_by, record.decision_reason = ProviderRecordState.REJECTED, actor, reason.strip()[:200]
        record.save(update_fields=["state", "decided_by", "decision_reason", "updated_at"])
        audit(action="training.provider.record_rejected", actor=actor, obj=record)
    return record


# --- xAPI statements ----------------------------------------------------------------------------------

_DURATION = re.compile(r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
                       r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def iso_duration_hours(text: str) -> Decimal | None:
    """ISO 8601 duration (PnDTnHnMnS) in hours, rounded to 0.01; None when it is not one."""
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT"):
        return None
    d, h, m, s = (Decimal(match[g] or 0) for g in "dhms")
    return (d * 24 + h + m / 60 + s / 3600).quantize(Decimal("0.01"))


def statement_record(statement: Any) -> dict:
    """An xAPI statement as our record (the keys provider_records_post reads); what it cannot map is left
    out, so the record is refused with the reason."""
    if not isinstance(statement, dict):
        return {}
    record: dict[str, Any] = {"record_id": _text(statement.get("id"))}
    actor = statement.get("actor") if isinstance(statement.get("actor"), dict) else {}
    account = actor.get("account") if isinstance(actor.get("account"), dict) else {}
    record["staff_no"] = _text(account.get("name"))
    verb = statement.get("verb") if isinstance(statement.get("verb"), dict) else {}
    obj = statement.get("object") if isinstance(statement.get("object"), dict) else {}
    object_id = _text(obj.get("id"))
    record["project_code"] = record["course_id"] = object_id.rstrip("/").rsplit("/", 1)[-1] if "://" in object_id else object_id
    result = statement.get("result") if isinstance(statement.get("result"), dict) else {}
    extensions = result.get("extensions") if isinstance(result.get("extensions"), dict) else {}
    grade = next((v for k, v in extensions.items() if isinstance(k, str) and k.rstrip("/").endswith("/grade")), None)
    if grade is None and isinstance(result.get("success"), bool):
        grade = "合格" if result["success"] else "不合格"
    if not _text(verb.get("id")).endswith("/completed"):
        record["_refusal"] = "只接受 verb 为 completed 的语句。"
    record["grade"] = grade
    timestamp = parse_datetime(statement["timestamp"]) if isinstance(statement.get("timestamp"), str) else None
    if timestamp is not None:
        record["completed_on"] = timezone.localdate(timestamp) if timezone.is_aware(timestamp) else timestamp.date()
        record["completed_on"] = record["completed_on"].isoformat()
    if isinstance(result.get("duration"), str):
        record["certified_hours"] = iso_duration_hours(result["duration"]) if iso_duration_hours(result["duration"]) is not None else "x"
    return record
