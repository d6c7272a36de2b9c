"""Issue 19 item 1: training providers push completion records (the provider API, training.provider_api).

Every record is idempotent on (provider, record id) and posts through the same result path as an import
(training.services.results_record_many, or result_record where the attendance rule applies), so the ledger
(CR-1, CR-2), certificates and the closed-year holds (CR-9) apply unchanged; the system account writes,
and each posting names the provider and record id. A record that would overwrite another source's result,
or that matches a recognition claim or another result of the same teacher (CR-11: same project code, or
same organiser with overlapping dates), is held for bureau staff instead of posting twice
(training.provider_holds). The teacher is found by 工号; a 身份证号 sent with it must be that teacher's,
and is never kept, echoed or logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from bureau.services import ApplicationError, audit, audit_many, system_user
from credits.models import Amendment, AmendmentState
from credits.posting import closed_years

from . import provider_holds as holds
from . import rules
from .models import Project, Provider, ProviderCourse, ProviderRecord, ProviderRecordState, Result
from .services import RESULT_BATCH, ResultLine, result_record, results_record_many

MAX_RECORDS = 10_000
GRADES = ("优秀", "合格", "不合格", "未完成")
# xAPI: certified hours (认定学时) come only from a result extension whose IRI ends in this segment, e.g.
# https://<机构域名>/xapi/extensions/certified-hours (result.duration is time spent, not hours certified).
CERTIFIED_HOURS_EXTENSION = "certified-hours"


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


def provider_scope(provider_id: int | None) -> dict | None:
    """What a provider may post for, as stored: active, 承办单位, project codes and course mappings."""
    provider = Provider.objects.filter(pk=provider_id).first() if provider_id is not None else None
    if provider is None:
        return None
    return {"active": provider.active, "organiser": provider.organiser,
            "projects": sorted(provider.projects.values_list("code", flat=True)),
            "courses": sorted(f"{c.external_id} → {c.project.code}" for c in provider.courses.select_related("project"))}


def provider_scope_audit(*, provider: Provider, before: dict | None, actor) -> None:
    """After a provider is saved (the admin): one audit entry when what it may post for changed (or it is
    new), with the scope before and after. Call in the transaction of the save."""
    after = provider_scope(provider.pk)
    if after != before:
        audit(action="training.provider.scope_changed", actor=actor, obj=provider, before=before, after=after)


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
    """A text field as sent; a JSON integer is read as its digits (record ids and 工号 are often numbers),
    anything else (true/false, a fraction, an object) as missing."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _last_segment(course_id: str) -> str:
    """An IRI's last path segment (https://…/courses/NET5/ → NET5); anything else as it is."""
    return course_id.rstrip("/").rsplit("/", 1)[-1] if "://" in course_id else course_id


def _origin(provider: Provider, record_id: str) -> str:
    return f"机构推送：{provider.name}，记录 {record_id}"


def _provider_projects(provider: Provider) -> set[int]:
    q = Q(pk__in=provider.projects.values("pk"))
    if provider.organiser:
        q |= Q(organiser=provider.organiser)
    return set(Project.objects.filter(q).values_list("pk", flat=True))


def provider_records_post(*, provider: Provider, records: list[dict]) -> list[Outcome]:
    """Post a provider's batch (at most MAX_RECORDS): one outcome per record, in order. Written by the
    system account (bureau.services.system_user), each posting naming the provider and record id
    (`_origin`) in its ledger rows and audit entries."""
    if len(records) > MAX_RECORDS:
        raise ApplicationError(f"每批最多 {MAX_RECORDS} 条记录。")
    outcomes: list[Outcome | None] = [None] * len(records)

    # 1. look up what the batch names, in bulk
    rows = [r for r in records if isinstance(r, dict)]
    codes = {_text(r.get("project_code")) for r in rows} - {""}
    course_ids = {_text(r.get("course_id")) for r in rows} - {""}
    course_ids |= {_last_segment(c) for c in course_ids}
    staff_nos = {_text(r.get("staff_no")) for r in rows} - {""}
    projects = {p.code: p for p in Project.objects.filter(code__in=codes)}
    courses = {c.external_id: c.project for c in
               ProviderCourse.objects.filter(provider=provider, external_id__in=course_ids).select_related("project")}
    teachers = {t.staff_no: t for t in Teacher.objects.filter(staff_no__in=staff_nos)}
    allowed = _provider_projects(provider)

    parsed: list[_Parsed] = []
    seen_ids: set[str] = set()
    seen_pairs: set[tuple[int, int]] = set()
    for index, raw in enumerate(records):
        record_id = _text(raw.get("record_id")) if isinstance(raw, dict) else ""
        reason, item = _parse(raw, record_id, projects, courses, teachers, allowed)
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
    actor = system_user()
    with transaction.atomic():
        # One call of a provider at a time: a feed sent twice at once waits, then finds its records unchanged.
        Provider.objects.select_for_update().filter(pk=provider.pk).values_list("pk", flat=True).first()
        existing = {r.record_id: r for r in ProviderRecord.objects.select_for_update()
                    .filter(provider=provider, record_id__in=[p.record_id for p in parsed])}
        # Claims and other results are asked only for records that have not posted (training.provider_holds).
        unposted = {p.teacher.pk for p in parsed if p.record_id not in existing
                    or existing[p.record_id].state == ProviderRecordState.HELD}
        claims = holds.live_claims(unposted)
        others = holds.other_results(unposted, provider_id=provider.pk)
        results = holds.current_results({(p.project.pk, p.teacher.pk) for p in parsed})
        to_post: list[_Parsed] = []
        replayed: list[tuple[_Parsed, int]] = []  # unchanged records already posted, with their enrolment
        singles: list[_Parsed] = []
        held: list[tuple[_Parsed, holds.Hold]] = []
        for item in parsed:
            prior = existing.get(item.record_id)
            current = results.get((item.project.pk, item.teacher.pk))
            if prior is not None and prior.state == ProviderRecordState.REJECTED:
                unchanged = _values(prior) == item.values
                outcomes[item.index] = Outcome(item.record_id, "unchanged" if unchanged else "refused",
                                               "" if unchanged else "该记录已被市教育局驳回，如有异议请联系市教育局。")
                continue
            if prior is not None and (prior.project_id, prior.teacher_id) != (item.project.pk, item.teacher.pk):
                outcomes[item.index] = Outcome(item.record_id, "refused",
                                               "同一机构记录编号不能改换教师或项目；如原记录有误，请联系市教育局更正。")
                continue
            if prior is not None and prior.state == ProviderRecordState.POSTED and _values(prior) == item.values:
                overridden = _overridden(item, current)
                outcomes[item.index] = Outcome(item.record_id, "unchanged", overridden)
                if current is not None and not overridden and item.completed_on and item.completed_on.year in closed:
                    replayed.append((item, current.enrolment_id))  # its own 补报 may still wait (below)
                continue
            hold = holds.hold_for(project=item.project, grade=item.grade, completed_on=item.completed_on,
                                  certified_hours=item.certified_hours, prior=prior, current=current,
                                  claims=claims.get(item.teacher.pk, []), results=others.get(item.teacher.pk, []))
            if hold is not None:  # a held record sent again is checked again, and keeps the current reason
                held.append((item, hold))
            elif item.grade in rules.PASSING_GRADES and item.project.min_attendance_rate is not None:
                singles.append(item)
            else:
                to_post.append(item)

        posted: list[tuple[_Parsed, Result]] = []
        # The cache keys are bumped once for the whole call, not once per batch (as an import does, PERF-6).
        with versions.coalesced():
            for start in range(0, len(to_post), RESULT_BATCH):
                lines_for = to_post[start:start + RESULT_BATCH]
                lines = [ResultLine(project=p.project, teacher=p.teacher, grade=p.grade, completed_on=p.completed_on,
                                    certified_hours=p.certified_hours, origin=_origin(provider, p.record_id)) for p in lines_for]
                for item, (result, changed) in zip(lines_for, results_record_many(lines, actor=actor, closed=closed)):
                    outcomes[item.index] = _posted_outcome(item, results, changed)
                    posted.append((item, result))
            for item in singles:  # the attendance rule (training.services.result_record checks it)
                try:
                    with transaction.atomic():
                        result, changed = result_record(
                            project=item.project, teacher=item.teacher, grade=item.grade, completed_on=item.completed_on,
                            certified_hours=item.certified_hours, actor=actor, origin=_origin(provider, item.record_id))
                except ApplicationError as exc:
                    outcomes[item.index] = Outcome(item.record_id, "refused", str(exc))
                    continue
                outcomes[item.index] = _posted_outcome(item, results, changed)
                posted.append((item, result))

        released = [(item, existing[item.record_id]) for item, _ in posted
                    if item.record_id in existing and existing[item.record_id].state == ProviderRecordState.HELD]
        _store(provider, existing, [item for item, _ in posted], held)
        for item, record in released:
            outcomes[item.index].reason = "此前待核查的重复已不存在，已自动登记。"
        if released:
            audit_many([(record, "training.provider.record_released", {"automatic": True}) for _, record in released],
                       actor=actor)
        # A record sent again says so too while its 补报 still waits (else "unchanged" would read as posted).
        for item in _waiting([(item, result.enrolment_id) for item, result in posted] + replayed, closed):
            outcomes[item.index].reason += "完成日期属于已关账年度，学分未直接登记，已作为补报等待市教育局审核。"
        for item, hold in held:
            outcomes[item.index] = Outcome(item.record_id, "held", f"{hold.reason}，待市教育局核查。")
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
        audit(action="training.provider.records_posted", actor=actor, obj=provider, received=len(records), **counts)
    return outcomes  # type: ignore[return-value]


def _parse(raw, record_id, projects, courses, teachers, allowed) -> tuple[str, Any]:
    if not isinstance(raw, dict):
        return "记录格式不正确。", None
    if not record_id or len(record_id) > 200:
        return "缺少机构记录编号（record_id），或超过 200 个字符。", None
    if raw.get("_refusal"):
        return raw["_refusal"], None
    # The provider's own course mapping first (the id as sent, or an IRI's last segment), then our code.
    code, course = _text(raw.get("project_code")), _text(raw.get("course_id"))
    project = (courses.get(course) or courses.get(_last_segment(course)) if course else None) or projects.get(code)
    if project is None:
        if not code and not course:
            return "缺少项目编号（project_code）或机构课程编号（course_id）。", None
        return ("项目编号不存在。" if code and not course else "机构课程编号未登记对应的培训项目。" if not code
                else "机构课程编号未登记对应的培训项目，也不是项目编号。"), None
    if project.pk not in allowed:
        return "该项目不属于本机构承办，不能推送。", None
    # SEC-3: the teacher is found by 工号 only; an ID number alone would tell whether it is a city teacher's.
    staff_no, id_number = _text(raw.get("staff_no")), _text(raw.get("id_number")).upper()
    if not staff_no:
        return "缺少教师工号（staff_no）；身份证号只用于核对，不能单独用于查找教师。", None
    teacher = teachers.get(staff_no)
    if teacher is None:
        return "未找到该工号的教师。", None
    if id_number and (teacher.id_number or "").upper() != id_number:
        return "工号与身份证号不是同一位教师，请核对。", None
    grade = raw.get("grade")
    if grade not in GRADES:
        return "考核结果须为 优秀、合格、不合格 或 未完成。", None
    completed_on = None
    if raw.get("completed_on") not in (None, ""):
        try:  # Django 5.2: a well-formed but impossible date (2026-02-30) raises
            completed_on = parse_date(raw["completed_on"]) if isinstance(raw["completed_on"], str) else None
        except ValueError:
            completed_on = None
        if completed_on is None:
            return "完成日期格式不正确（应为 YYYY-MM-DD）。", None
    if grade in rules.PASSING_GRADES and completed_on is None:
        return "考核结果为优秀或合格时须填写完成日期。", None
    hours = None
    if raw.get("certified_hours") not in (None, "") and grade in rules.PASSING_GRADES:
        if isinstance(raw["certified_hours"], bool):
            return "认定学时须为数字。", None
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


def _posted_outcome(item: _Parsed, results: dict, changed: bool) -> Outcome:
    if (item.project.pk, item.teacher.pk) not in results:
        return Outcome(item.record_id, "created")
    return Outcome(item.record_id, "updated" if changed else "unchanged")


def _overridden(item: _Parsed, current: holds.Current | None) -> str:
    """An unchanged record whose result was changed since by someone else: it is not posted again."""
    if current is None or current.values == item.values[2:]:
        return ""
    return f"本项目的考核结果已被其他来源改为{current.values[0]}，本记录未覆盖；如有异议请联系市教育局。"


def _waiting(posted: list[tuple[_Parsed, int]], closed: frozenset[int]) -> list[_Parsed]:
    """The records (with their result's enrolment) whose ledger change waits as a pending 补报 (CR-9: dated
    in a closed year)."""
    if not closed or not posted:
        return []
    keys = {f"result:{enrolment_id}": item for item, enrolment_id in posted}  # training.services._result_key
    pending: set[str] = set()
    names = list(keys)
    for start in range(0, len(names), 5000):
        pending |= set(Amendment.objects.filter(state=AmendmentState.PENDING, source_key__in=names[start:start + 5000])
                       .values_list("source_key", flat=True))
    return [item for key, item in keys.items() if key in pending]


def _store(provider, existing, posted: list[_Parsed], held: list[tuple[_Parsed, holds.Hold]]) -> None:
    new, changed = [], []
    rows = [(p, ProviderRecordState.POSTED, None) for p in posted] + [(p, ProviderRecordState.HELD, h) for p, h in held]
    for item, state, hold in rows:
        record = existing.get(item.record_id) or ProviderRecord(provider=provider, record_id=item.record_id)
        if record.state == ProviderRecordState.HELD and not hold:
            record.decision_reason = "重复已不存在，机构再次推送时自动登记"
        record.project, record.teacher, record.grade = item.project, item.teacher, item.grade
        record.completed_on, record.certified_hours, record.state = item.completed_on, item.certified_hours, state
        record.claim = hold.claim if hold else None
        record.result_id = hold.result_id if hold else None
        record.hold_reason = hold.reason[:200] if hold else ""
        (changed if record.pk else new).append(record)
    ProviderRecord.objects.bulk_create(new, batch_size=2000)
    if changed:
        now = timezone.now()
        for record in changed:
            record.updated_at = now
        ProviderRecord.objects.bulk_update(changed, ["project", "teacher", "grade", "completed_on", "certified_hours",
                                                     "state", "claim", "result", "hold_reason", "decision_reason",
                                                     "updated_at"], batch_size=2000)


# --- held records: bureau staff decide ------------------------------------------------------------------

def provider_record_release(*, record_id: int, actor, reason: str) -> ProviderRecord:
    """A held record is not a duplicate after all: post it (result_record, so every rule applies; over an
    existing result of the same project, the record's values win, reversed and re-posted as CR-2)."""
    with transaction.atomic():
        record = (ProviderRecord.objects.select_for_update(of=("self",))
                  .select_related("project", "teacher", "provider").get(pk=record_id))
        if record.state != ProviderRecordState.HELD:
            raise ApplicationError("该记录不在待核查状态。")
        result_record(project=record.project, teacher=record.teacher, grade=record.grade,
                      completed_on=record.completed_on, certified_hours=record.certified_hours, actor=actor,
                      origin=_origin(record.provider, record.record_id))
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

def statement_record(statement: Any) -> dict:
    """An xAPI statement as our record (the keys provider_records_post reads); what it cannot map is left
    out, so the record is refused with the reason. object.id is looked up as the provider's course id
    first (the whole IRI, then its last segment), and only without a mapping as our project code."""
    if not isinstance(statement, dict):
        return {}
    record: dict[str, Any] = {"record_id": _text(statement.get("id"))}
    actor = statement.get("actor") if isinstance(statement.get("actor"), dict) else {}
    account = actor.get("account") if isinstance(actor.get("account"), dict) else {}
    record["staff_no"] = _text(account.get("name"))
    verb = statement.get("verb") if isinstance(statement.get("verb"), dict) else {}
    obj = statement.get("object") if isinstance(statement.get("object"), dict) else {}
    object_id = _text(obj.get("id"))
    record["course_id"], record["project_code"] = object_id, _last_segment(object_id)
    result = statement.get("result") if isinstance(statement.get("result"), dict) else {}
    extensions = result.get("extensions") if isinstance(result.get("extensions"), dict) else {}
    grade = _extension(extensions, "grade")
    if grade is None and isinstance(result.get("success"), bool):
        grade = "合格" if result["success"] else "不合格"
    if not _text(verb.get("id")).endswith("/completed"):
        record["_refusal"] = "只接受 verb 为 completed 的语句。"
    record["grade"] = grade
    if isinstance(statement.get("timestamp"), str):
        try:  # Django 5.2: a well-formed but impossible date (2026-02-30) raises
            timestamp = parse_datetime(statement["timestamp"])
        except ValueError:
            timestamp = None
        if timestamp is None:
            record.setdefault("_refusal", "完成日期格式不正确：timestamp 须为有效的 ISO 8601 日期时间。")
        else:
            day = timezone.localdate(timestamp) if timezone.is_aware(timestamp) else timestamp.date()
            record["completed_on"] = day.isoformat()
    # result.duration is the time spent, not hours certified: it is not read.
    record["certified_hours"] = _extension(extensions, CERTIFIED_HOURS_EXTENSION)
    return record


def _extension(extensions: dict, segment: str) -> Any:
    """The value of the result extension whose IRI's last path segment is `segment`, or None."""
    return next((v for k, v in extensions.items()
                 if isinstance(k, str) and "://" in k and _last_segment(k) == segment), None)
