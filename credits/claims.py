"""External recognition (学时认定, SPEC §4): a teacher claims hours of outside training with evidence; the
school reviews, then the district (or the bureau); an approved claim posts one ledger row (CR-2).

The transitions live in TRANSITIONS; every write is a service here (keyword-only, from-state guarded,
atomic, audited, a ClaimEvent per step); notices go out after commit. The turnaround report (reads)
is in credits/claims_report.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import posixpath
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from bureau import workflow
from bureau.choices import Mode, Role, Theme
from bureau.scoping import own_teacher, role_of, visible_schools, visible_teachers
from bureau.services import ApplicationError, audit, event_record, notice_send
from bureau.workflow import Transition, transition, transition_guard

from . import rules
from .models import Claim, ClaimEvent, ClaimEvidence, ClaimState, LedgerEntry, Source
from .posting import Posting, ledger_sync, posting_attempts
from .selectors import policy_for

logger = logging.getLogger(__name__)

S = ClaimState


def _t(from_states, to_state, roles, label, needs_reason=False) -> Transition:
    return transition(from_states, to_state, label, roles=roles, needs_reason=needs_reason)


# action -> allowed from-states, to-state, the roles that may take it. Submitting creates a claim (no
# from-state). Scope comes on top: the teacher's own claim, the principal's school, the district's schools.
TRANSITIONS: dict[str, Transition] = {
    "resubmit": _t({S.RETURNED}, S.SCHOOL_REVIEW, {Role.TEACHER}, "修改后重新提交"),
    "school_approve": _t({S.SCHOOL_REVIEW}, S.DISTRICT_REVIEW, {Role.PRINCIPAL}, "学校审核通过"),
    "school_reject": _t({S.SCHOOL_REVIEW}, S.REJECTED, {Role.PRINCIPAL}, "学校审核不通过", True),
    "school_return": _t({S.SCHOOL_REVIEW}, S.RETURNED, {Role.PRINCIPAL}, "退回教师修改", True),
    "district_approve": _t({S.DISTRICT_REVIEW}, S.APPROVED, {Role.DISTRICT, Role.BUREAU}, "认定通过"),
    "district_reject": _t({S.DISTRICT_REVIEW}, S.REJECTED, {Role.DISTRICT, Role.BUREAU}, "认定不通过", True),
    "district_return": _t({S.DISTRICT_REVIEW}, S.SCHOOL_REVIEW, {Role.DISTRICT, Role.BUREAU}, "退回学校复核", True),
    "withdraw": _t({S.APPROVED}, S.WITHDRAWN, {Role.BUREAU}, "撤销认定", True),
    "reinstate": _t({S.WITHDRAWN}, S.APPROVED, {Role.BUREAU}, "恢复认定", True),
}
# The first of these ends the claim's wait: decided_at and decided_by are set then (turnaround report).
DECISIONS = frozenset({"school_reject", "district_approve", "district_reject"})

EVIDENCE_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
MAX_EVIDENCE_FILES = 5
# Claims are for training outside the system; school-based study is submitted as hours (学时申报).
CLAIM_MODES = [(v, label) for v, label in Mode.choices if v != Mode.SCHOOL_BASED]


def next_state(state: str, action: str) -> str | None:
    """The state after `action`, or None when the action is not allowed from `state`."""
    return workflow.next_state(TRANSITIONS, state, action)


def visible_claims(user) -> QuerySet[Claim]:
    """Claims the user may see, built on bureau.scoping: a teacher their own; principals, district and bureau
    staff and auditors those reviewed by the schools in their scope."""
    role = role_of(user)
    if role in (Role.BUREAU, Role.AUDITOR):
        return Claim.objects.all()
    if role in (Role.PRINCIPAL, Role.DISTRICT):
        return Claim.objects.filter(school__in=visible_schools(user))
    if role == Role.TEACHER:
        return Claim.objects.filter(teacher__in=visible_teachers(user))
    return Claim.objects.none()


# --- Evidence ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedFile:
    upload: object
    name: str
    content_type: str
    extension: str
    size: int


def _display_name(name: str) -> str:
    name = posixpath.basename((name or "").replace("\\", "/")).strip()
    return name[-200:] or "未命名文件"


def evidence_check(files: Sequence, *, kept: int = 0) -> list[CheckedFile]:
    """Check every file before any is stored: 1–5 files in all, none empty, none over EVIDENCE_MAX_BYTES, and
    PDF, JPEG or PNG as read from the content (never the name or the browser's content type)."""
    total = kept + len(files)
    if total < 1:
        raise ApplicationError("请上传佐证材料：证书或结业证明的扫描件、照片（PDF、JPG 或 PNG），1 至 5 个文件。")
    if total > MAX_EVIDENCE_FILES:
        raise ApplicationError(f"佐证材料最多 {MAX_EVIDENCE_FILES} 个文件，本次共 {total} 个，请删减后再提交。")
    limit = settings.EVIDENCE_MAX_BYTES
    checked = []
    for upload in files:
        name = _display_name(getattr(upload, "name", ""))
        size = upload.size or 0
        if size == 0:
            raise ApplicationError(f"“{name}”是空文件，请重新选择。")
        if size > limit:
            raise ApplicationError(
                f"“{name}”有 {size / 1048576:.1f} MB，超过 {limit / 1048576:g} MB 的上限，请压缩或分页扫描后再上传。"
            )
        upload.seek(0)
        head = upload.read(2048)
        upload.seek(0)
        kind = filetype.guess(head)
        if kind is None or kind.mime not in EVIDENCE_TYPES:
            raise ApplicationError(
                f"“{name}”不是 PDF、JPG 或 PNG 文件（按文件内容识别，与扩展名无关），请上传证书扫描件或照片。"
            )
        checked.append(CheckedFile(upload, name, kind.mime, EVIDENCE_TYPES[kind.mime], size))
    return checked


def _store(claim: Claim, checked: list[CheckedFile], stored: list[str]) -> None:
    """Save the files through the storage API under evidence/<claim id>/ (random names: the original is kept
    as data only). `stored` collects the names so a failure later can remove them."""
    for item in checked:
        evidence = ClaimEvidence(claim=claim, original_name=item.name, content_type=item.content_type, size=item.size)
        evidence.file.save(f"{uuid.uuid4().hex}.{item.extension}", item.upload, save=False)
        stored.append(evidence.file.name)
        evidence.save()


def _discard(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # noqa: BLE001 - an orphan file is harmless; the claim's outcome is what matters
            logger.warning("evidence file %s could not be removed", name, exc_info=True)


# --- Writes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimFields:
    title: str
    organiser: str
    started_on: dt.date
    ended_on: dt.date
    hours: Decimal
    mode: str
    theme: str
    project_code: str = ""  # CR-11: optional, as on the certificate
    certificate_no: str = ""


def _fields_check(fields: ClaimFields, *, today: dt.date) -> ClaimFields:
    title, organiser = fields.title.strip(), fields.organiser.strip()
    if not title or not organiser:
        raise ApplicationError("请填写培训名称和主办单位。")
    if fields.ended_on < fields.started_on:
        raise ApplicationError("结束日期不能早于开始日期。")
    if fields.ended_on > today:
        raise ApplicationError("培训结束后才能申请认定：结束日期不能晚于今天。")
    if fields.hours is None or fields.hours <= 0:
        raise ApplicationError("学时应大于 0。")
    if fields.mode not in dict(CLAIM_MODES):
        raise ApplicationError("请选择培训方式（校本研修请通过“学时申报”提交）。")
    if fields.theme not in Theme.values:
        raise ApplicationError("请选择培训主题。")
    return ClaimFields(title[:200], organiser[:200], fields.started_on, fields.ended_on, fields.hours,
                       fields.mode, fields.theme, (fields.project_code or "").strip()[:32],
                       (fields.certificate_no or "").strip()[:64])


def _event(claim: Claim, *, action: str, from_state: str, actor, reason: str = "") -> ClaimEvent:
    event = event_record(ClaimEvent, obj=claim, action=action, from_state=from_state, to_state=claim.state, actor=actor,
                         reason=reason)
    transaction.on_commit(lambda: claim_notify(claim_id=claim.pk, event_id=event.pk))
    return event


def claim_submit(*, teacher, fields: ClaimFields, files: Sequence, actor, now: dt.datetime) -> Claim:
    """A teacher claims hours with 1–5 evidence files; the claim goes to the teacher's school."""
    if role_of(actor) != Role.TEACHER or own_teacher(actor) != teacher:
        raise ApplicationError("只能为本人申请学时认定。")
    fields = _fields_check(fields, today=timezone.localdate(now))
    checked = evidence_check(files)  # every file is checked before anything is written
    stored: list[str] = []
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                teacher=teacher, school_id=teacher.school_id, state=S.SCHOOL_REVIEW, state_since=now,
                submitted_at=now, **fields.__dict__,
            )
            _store(claim, checked, stored)
            _event(claim, action="submit", from_state="", actor=actor)
            audit(action="credits.claim.submitted", actor=actor, obj=claim, files=len(checked), hours=str(claim.hours))
    except BaseException:
        _discard(stored)
        raise
    return claim


def claim_resubmit(*, claim: Claim, fields: ClaimFields, files: Sequence, remove_ids: Sequence[int] = (), actor,
                   now: dt.datetime) -> Claim:
    """A returned claim, edited by its teacher (files may be added or removed), goes back to the school.

    `submitted_at` keeps the first submission: the report measures the whole wait from claim to decision."""
    stored: list[str] = []
    try:
        with transaction.atomic():
            claim = _locked(claim)
            _guard(claim, "resubmit", actor, reason="")
            fields = _fields_check(fields, today=timezone.localdate(now))
            removed = list(claim.evidence.filter(pk__in=list(remove_ids)))
            checked = evidence_check(files, kept=claim.evidence.count() - len(removed))
            for name, value in fields.__dict__.items():
                setattr(claim, name, value)
            previous = claim.state
            claim.state, claim.state_since, claim.school_id = S.SCHOOL_REVIEW, now, claim.teacher.school_id
            claim.save()
            names = [e.file.name for e in removed]
            ClaimEvidence.objects.filter(pk__in=[e.pk for e in removed]).delete()
            transaction.on_commit(lambda: _discard(names))
            _store(claim, checked, stored)
            _event(claim, action="resubmit", from_state=previous, actor=actor)
            audit(action="credits.claim.resubmit", actor=actor, obj=claim, added=len(checked),
                  removed=[e.original_name for e in removed])
    except BaseException:
        _discard(stored)
        raise
    return claim


def claim_transition(*, claim: Claim, action: str, actor, reason: str = "", duplicate_checked: bool = False,
                     now: dt.datetime) -> Claim:
    """A reviewer's step (approve, reject, send back) or the bureau's withdrawal / reinstatement.

    The claim row is locked, so two reviewers acting at once take turns and the second finds the claim
    already moved on. The ledger rows of a claim share source_key ``claim:<id>`` with increasing revisions
    under the unique constraint (CR-2); should another writer of that key get in between, we retry.

    CR-11: approving (district_approve) a claim that matches something the teacher already has is refused
    unless the reviewer says they checked it (`duplicate_checked`) and gives a reason; the matches and the
    reason go into the event and the audit entry."""
    if action not in TRANSITIONS or action == "resubmit":
        raise ApplicationError(f"未知操作：{action}")
    return posting_attempts(lambda: _transition_once(claim, action, actor, reason.strip(), duplicate_checked, now),
                            what=f"claim {claim.pk}")


def _transition_once(claim: Claim, action: str, actor, reason: str, duplicate_checked: bool,
                     now: dt.datetime) -> Claim:
    claim = _locked(claim)
    _guard(claim, action, actor, reason)
    duplicates: list[str] = []
    if action in DUPLICATE_CHECKED_ACTIONS:
        duplicates = [match_text(m) for m in duplicate_matches([claim]).get(claim.pk, [])]
        if duplicates and not (duplicate_checked and reason):
            raise ApplicationError(
                "该申请与教师已有的记录疑似重复（" + "；".join(duplicates) + "）。请核对后勾选“已核对重复记录”"
                "并填写仍予认定的理由。"
            )
        if duplicates:
            reason = f"{reason}（已核对重复记录：{'；'.join(duplicates)}）"[:200]
    previous = claim.state
    claim.state, claim.state_since = TRANSITIONS[action].to_state, now
    if action in DECISIONS and claim.decided_at is None:
        claim.decided_at, claim.decided_by = now, actor
    claim.save(update_fields=["state", "state_since", "decided_at", "decided_by", "updated_at"])
    rows = _ledger_sync(claim, actor=actor, reason=reason or TRANSITIONS[action].label)
    _event(claim, action=action, from_state=previous, actor=actor, reason=reason)
    audit(action=f"credits.claim.{action}", actor=actor, obj=claim, reason=reason, rows=[r.pk for r in rows],
          **({"duplicates": duplicates} if duplicates else {}))
    return claim


def _locked(claim: Claim) -> Claim:
    """The claim, locked for this step; only the claim row (not its teacher, school or district)."""
    return Claim.objects.select_for_update(of=("self",)).select_related("teacher", "school__district").get(pk=claim.pk)


def _guard(claim: Claim, action: str, actor, reason: str) -> None:
    transition = transition_guard(TRANSITIONS, action=action, state=claim.state,
                                  refusal="该申请当前为“{state}”，不能执行“{label}”，请刷新页面。",
                                  state_label=claim.get_state_display())
    if role_of(actor) not in transition.roles or not visible_claims(actor).filter(pk=claim.pk).exists():
        raise ApplicationError("您无权办理该申请。")
    if transition.needs_reason and not reason.strip():
        raise ApplicationError(f"“{transition.label}”请填写原因。")


def _ledger_sync(claim: Claim, *, actor, reason: str) -> list[LedgerEntry]:
    """CR-2 for claims: an approved claim has one live row under ``claim:<id>`` (dated on the training's
    end); any other state has none (a reversal cancels it)."""
    wanted = None
    if claim.state == S.APPROVED:
        policy = policy_for(claim.ended_on.year)
        wanted = Posting(
            teacher_id=claim.teacher_id, entry_date=claim.ended_on, hours=claim.hours,
            credits=rules.money(claim.hours * policy.credits_per_hour), source=Source.EXTERNAL_CERTIFICATE,
            mode=claim.mode, theme=claim.theme, project_code=claim.project_code, description=f"{claim.title}（{claim.organiser}）",
            entered_by_id=claim.teacher.user_id,
        )
    return ledger_sync(source_key=f"claim:{claim.pk}", wanted=wanted, actor=actor, reason=f"学时认定{reason}")


# --- Duplicates (CR-11) -----------------------------------------------------------------------------

# The step that posts is the one that must see the match; the school's step passes it on (see docs).
DUPLICATE_CHECKED_ACTIONS = frozenset({"district_approve"})


def duplicate_candidates(claims: Sequence[Claim]) -> dict[int, list[rules.PriorRecord]]:
    """What the teachers of `claims` already have, per teacher id, in two queries whatever the number of
    claims: their other approved claims (a withdrawn, rejected or pending one is not a posting), and their
    live ledger rows (neither a reversal nor reversed) carrying one of the claims' project codes. Rows
    posted by claims are left out (the claim itself is compared, with its organiser and certificate)."""
    teacher_ids = {c.teacher_id for c in claims}
    found: dict[int, list[rules.PriorRecord]] = {t: [] for t in teacher_ids}
    if not teacher_ids:
        return found
    for other in Claim.objects.filter(teacher_id__in=teacher_ids, state=S.APPROVED).only(
            "pk", "teacher_id", "project_code", "certificate_no", "organiser", "started_on", "ended_on", "hours"):
        found[other.teacher_id].append(rules.PriorRecord(
            "claim", other.pk, other.project_code, other.certificate_no, other.organiser, other.started_on,
            other.ended_on, other.hours, Source.EXTERNAL_CERTIFICATE))
    codes = {c.project_code.strip() for c in claims if c.project_code.strip()}
    if codes:
        by_code = Q()
        for code in codes:
            by_code |= Q(project_code__iexact=code)
        rows = (LedgerEntry.objects.filter(by_code, teacher_id__in=teacher_ids, reverses__isnull=True,
                                           reversed_by__isnull=True, hours__gt=0)
                .exclude(source_key__startswith="claim:")
                .only("pk", "teacher_id", "project_code", "entry_date", "hours", "source"))
        for row in rows:
            found[row.teacher_id].append(rules.PriorRecord(
                "ledger", row.pk, row.project_code, "", "", row.entry_date, row.entry_date, row.hours, row.source))
    return found


def duplicate_matches(claims: Sequence[Claim]) -> dict[int, list[rules.DuplicateMatch]]:
    """CR-11 for each claim (by id): the records of its teacher it matches (empty lists are left out)."""
    candidates = duplicate_candidates(claims)
    result = {}
    for claim in claims:
        facts = rules.ClaimFacts(claim.project_code, claim.certificate_no, claim.organiser, claim.started_on,
                                 claim.ended_on)
        others = [r for r in candidates.get(claim.teacher_id, []) if not (r.kind == "claim" and r.record_id == claim.pk)]
        matches = rules.claim_duplicates(facts, others)
        if matches:
            result[claim.pk] = matches
    return result


def match_text(match: rules.DuplicateMatch) -> str:
    """One match in words, for the refusal, the event and the audit entry."""
    r = match.record
    dates = f"{r.started_on:%Y-%m-%d}" + ("" if r.ended_on == r.started_on else f" 至 {r.ended_on:%Y-%m-%d}")
    what = f"学时认定申请 #{r.record_id}" if r.kind == "claim" else f"学分登记 #{r.record_id}（{Source(r.source).label}）"
    code = f"，项目编号 {r.project_code}" if r.project_code else ""
    return f"{what}，{dates}，{r.hours.normalize():f} 学时{code}：{'、'.join(match.reasons)}"


# --- Notices (after commit) ------------------------------------------------------------------------


def claim_notify(*, claim_id: int, event_id: int) -> int:
    """Tell whoever the claim now waits for, or the teacher when it is decided or sent back. Idempotent:
    the key names the step (``claim:<id>:<state>:<event id>``), so a claim that comes back to a reviewer
    notifies again, and running this twice sends nothing more."""
    claim = Claim.objects.select_related("teacher__user", "school__district").get(pk=claim_id)
    event = ClaimEvent.objects.get(pk=event_id)
    users = get_user_model().objects.filter(is_active=True)
    state = event.to_state
    if state == S.SCHOOL_REVIEW:
        recipients = list(users.filter(profile__role=Role.PRINCIPAL, profile__school_id=claim.school_id))
        title, link = f"待审核：{claim.teacher.name}的学时认定“{claim.title}”", reverse("claims:school")
    elif state == S.DISTRICT_REVIEW:
        recipients = list(users.filter(profile__role=Role.DISTRICT, profile__district_id=claim.school.district_id))
        # A district without its own account: the bureau reviews instead.
        recipients = recipients or list(users.filter(profile__role=Role.BUREAU))
        title, link = f"待认定：{claim.school.name} {claim.teacher.name}的学时认定“{claim.title}”", reverse("claims:review")
    else:
        teacher_user = claim.teacher.user
        recipients = [teacher_user] if teacher_user is not None and teacher_user.is_active else []
        title, link = f"您的学时认定“{claim.title}”：{ClaimState(state).label}", reverse("claims:mine")
    body = f"{claim.hours.normalize():f} 学时 · {claim.organiser}" + (f"\n意见：{event.reason}" if event.reason else "")
    key = f"claim:{claim.pk}:{state}:{event.pk}"
    return sum(notice_send(recipient=u, key=key, title=title[:200], body=body, link=link) for u in recipients)
