"""Every workflow, one shape (habits 6 and 17): for each state machine, every (action, from-state) its
TRANSITIONS table refuses is tried through the service and leaves no event and no change; every step it
allows writes exactly one event row (action, from-state, to-state, actor) in its workflow's event table.

A workflow step taken for a whole batch (a round's review and award, placing a plan's proposals, the
roster's nightly jobs) has no single object to refuse: there a refused from-state means the object is
left alone — no error, no event, no change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Callable
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backbone import objections as backbone_objections
from backbone import roster as backbone_roster
from backbone import rules as backbone_rules
from backbone import services as backbone
from backbone.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    EntryStatus,
    Objection,
    RosterEntry,
    RosterEvent,
    RoundEvent,
    RoundStatus,
    SelectionRound,
)
from bureau.choices import Role
from bureau.services import ApplicationError
from bureau.workflow import Transition, forbidden_pairs
from credits import claims
from credits import rules as credit_rules
from credits.models import (
    AmendmentEvent,
    AmendmentState,
    Claim,
    ClaimEvent,
    ClaimState,
    ExemptionEvent,
    ExemptionStatus,
    HoursSubmission,
    SubmissionEvent,
    SubmissionState,
)
from credits.services import hours_decide
from exchange import services as exchange
from exchange.models import ExchangePlan, Proposal, ProposalEvent, ProposalStatus
from training import rules as training_rules
from training.models import Enrolment, EnrolmentEvent, EnrolmentState, Project, ProjectEvent, ProjectStatus
from training.services import enrolment_apply, enrolment_transition, project_transition

TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ACTOR_OF_ROLE = {Role.TEACHER: "teacher", Role.PRINCIPAL: "principal", Role.DISTRICT: "district", Role.BUREAU: "bureau"}


@dataclass(frozen=True)
class Workflow:
    table: dict[str, Transition]
    states: list[str]
    event: type  # the workflow's WorkflowEvent table
    make: Callable  # (w) -> the object, in its first state
    run: Callable  # (w, obj, action) -> the user the service was called with (None: the system)
    refused: str  # the workflow's own message for a refused from-state
    batch: frozenset[str] = frozenset()  # actions a batch service takes: a refused state is left alone

    def state_of(self, obj) -> str:
        obj.refresh_from_db()
        return obj.status if hasattr(obj, "status") else obj.state

    def put(self, obj, state: str):
        field = "status" if hasattr(obj, "status") else "state"
        type(obj).objects.filter(pk=obj.pk).update(**{field: state})
        obj.refresh_from_db()
        return obj

    def events(self, obj):
        (subject,) = [f.name for f in self.event._meta.concrete_fields if f.is_relation and f.name != "actor"]
        return self.event.objects.filter(**{subject: obj})


# --- Each workflow: how to make its object and call its service with a user allowed to act -------------


def _project(**over) -> Project:
    values = dict(code="P1", name="新课标研修", level="县培", mode="集中面授", kind="必修", theme="学科教学",
                  hours=D("24"), start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="区教师发展中心",
                  status="enrolling")
    values.update(over)
    return Project.objects.create(**values)


def _enrolment_run(w, enrolment, action):
    if action == "promote":  # the waiting list's step: the system fills a free seat (training.waitlist)
        from django.db import transaction

        from training.waitlist import waitlist_promote

        with transaction.atomic():
            waitlist_promote(project=Project.objects.select_for_update().get(pk=enrolment.project_id), today=TODAY)
        return None
    by_school = action == "school_approve" or (action == "reject" and enrolment.state == "applied")
    actor = w["users"]["principal" if by_school else "bureau"]
    enrolment_transition(enrolment=enrolment, action=action, actor=actor, reason="原因", today=TODAY)
    return actor


def _project_run(w, project, action):
    project_transition(project=project, action=action, actor=w["users"]["bureau"])
    return w["users"]["bureau"]


def _claim_make(w) -> Claim:
    fields = claims.ClaimFields(title="国培计划：数字化教学能力提升", organiser="北京师范大学",
                                started_on=dt.date(2026, 10, 10), ended_on=dt.date(2026, 10, 12), hours=D("24"),
                                mode="网络研修", theme="信息技术")
    return claims.claim_submit(teacher=w["city"]["teachers"][0], fields=fields, actor=w["users"]["teacher"], now=NOW,
                               files=[SimpleUploadedFile("证书.pdf", PDF, content_type="application/pdf")])


def _claim_run(w, claim, action):
    actor = w["users"][ACTOR_OF_ROLE[sorted(claims.TRANSITIONS[action].roles)[0]]]
    if action == "resubmit":
        fields = claims.ClaimFields(title=claim.title, organiser=claim.organiser, started_on=claim.started_on,
                                    ended_on=claim.ended_on, hours=claim.hours, mode=claim.mode, theme=claim.theme)
        claims.claim_resubmit(claim=claim, fields=fields, files=[], actor=actor, now=NOW)
    else:
        claims.claim_transition(claim=claim, action=action, actor=actor, reason="原因", now=NOW)
    return actor


def _submission_make(w) -> HoursSubmission:
    return HoursSubmission.objects.create(teacher=w["city"]["teachers"][0], kind="school_based", title="校本教研",
                                          studied_on=dt.date(2026, 10, 9), hours=D("4"), evidence="教研记录")


def _submission_run(w, submission, action):
    hours_decide(submission=submission, approve=action == "approve", note="原因", actor=w["users"]["principal"])
    return w["users"]["principal"]


def _proposal_make(w) -> Proposal:
    s1, s2, _ = w["city"]["schools"]
    return Proposal.objects.create(
        plan=ExchangePlan.objects.create(year=2026), teacher=w["city"]["teachers"][0], home_school=s1,
        receiving_school=s2, form="cluster", status="applied", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 8, 31),
    )


def _proposal_run(w, proposal, action):
    if action == "place":
        exchange.proposals_place(plan=proposal.plan, actor=w["users"]["bureau"])
        return w["users"]["bureau"]
    actor = w["users"]["district" if action in ("approve", "return") else "principal"]
    exchange.proposal_transition(proposal=proposal, action=action, actor=actor, note="原因")
    return actor


def _round(**over) -> SelectionRound:
    values = dict(year=2026, tier="县级", type="骨干教师", places=1, notice_starts_on=TODAY - dt.timedelta(days=20),
                  notice_ends_on=TODAY - dt.timedelta(days=10))
    values.update(over)
    return SelectionRound.objects.create(**values)


def _application_make(w) -> Application:
    teacher = w["city"]["teachers"][0]
    return Application.objects.create(round=_round(), teacher=teacher, school_id=teacher.school_id)


def _application_run(w, application, action):
    bureau, round_ = w["users"]["bureau"], application.round
    if action in ("recommend", "not_recommend"):
        backbone.application_recommend(application=application, recommend=action == "recommend", actor=w["users"]["principal"])
        return w["users"]["principal"]
    if action in ("shortlist", "not_select"):
        SelectionRound.objects.filter(pk=round_.pk).update(status=RoundStatus.REVIEW, places=int(action == "shortlist"))
        round_.applications.filter(status=ApplicationStatus.RECOMMENDED).update(score=D("80"))  # scored earlier
        backbone.review_select(round_=round_, actor=bureau)
    elif action in ("pass_training", "drop"):
        SelectionRound.objects.filter(pk=round_.pk).update(status=RoundStatus.TRAINING)
        backbone.training_assess(application=application, passed=action == "pass_training", reason="原因", actor=bureau)
    elif action == "disqualify":  # an objection upheld (the objection row itself is made without a step)
        SelectionRound.objects.filter(pk=round_.pk).update(status=RoundStatus.TRAINING)
        objection = Objection.objects.create(application=application, text="材料不实")
        backbone_objections.objection_resolve(objection=objection, upheld=True, resolution="核查属实", actor=bureau,
                                              now=NOW)
    else:
        SelectionRound.objects.filter(pk=round_.pk).update(status=RoundStatus.TRAINING)
        if application.status == ApplicationStatus.TRAINEE:  # an unassessed trainee holds the whole award
            with pytest.raises(ApplicationError, match="未登记培养考核"):
                backbone.round_award(round_=round_, awarded_on=TODAY, actor=bureau)
        else:
            backbone.round_award(round_=round_, awarded_on=TODAY, actor=bureau)
    return bureau


def _round_make(w) -> SelectionRound:
    round_ = _round()
    for teacher in w["city"]["teachers"][:2]:  # two candidates for one place: a competitive review
        Application.objects.create(round=round_, teacher=teacher, school_id=teacher.school_id,
                                   status=ApplicationStatus.RECOMMENDED)
    return round_


def _round_run(w, round_, action):
    bureau = w["users"]["bureau"]
    if action == "start_notice":
        backbone.round_start_notice(round_=round_, starts_on=TODAY, today=TODAY, actor=bureau)
    elif action == "start_review":
        backbone.round_start_review(round_=round_, today=TODAY, actor=bureau)
    elif action == "select":
        scores = {a.pk: D(80 - i) for i, a in enumerate(round_.applications.filter(status=ApplicationStatus.RECOMMENDED))}
        backbone.review_select(round_=round_, scores=scores, actor=bureau)
    else:
        backbone.round_award(round_=round_, awarded_on=TODAY, actor=bureau)
    return bureau


def _entry_make(w) -> RosterEntry:
    s1, s2, _ = w["city"]["schools"]
    # Awarded at another school (the allowance stops) and expired yesterday (the title lapses).
    return RosterEntry.objects.create(teacher=w["city"]["teachers"][0], tier="县级", type="骨干教师", certificate_no="C1",
                                      awarded_on=dt.date(2021, 11, 22), expires_on=TODAY - dt.timedelta(days=1),
                                      school_at_award=s2)


def _entry_run(w, entry, action):
    if action == "reaward":  # the same title awarded again, two days before the old one expires (BB-5)
        teacher = entry.teacher
        round_ = _round(status=RoundStatus.TRAINING)
        Application.objects.create(round=round_, teacher=teacher, school_id=teacher.school_id,
                                   status=ApplicationStatus.PASSED)
        backbone.round_award(round_=round_, awarded_on=entry.expires_on - dt.timedelta(days=2), actor=w["users"]["bureau"])
        return w["users"]["bureau"]
    if action == "revoke":
        backbone_roster.assessment_record(entry=entry, year=2026, passed=False, actor=w["users"]["bureau"])
        return w["users"]["bureau"]
    if action == "lapse":
        backbone_roster.lapse_expired(today=TODAY)
        return None  # the nightly job: the system
    backbone_roster.allowances_follow_school(actor=w["users"]["bureau"])
    return w["users"]["bureau"]


def _exemption_make(w):
    from credits.exemptions import exemption_request

    return exemption_request(teacher=w["city"]["teachers"][0], year=2026, kind="病假", reason="病假",
                             actor=w["users"]["principal"], today=TODAY)


def _exemption_run(w, exemption, action):
    from credits.exemptions import exemption_decide

    exemption_decide(exemption=exemption, grant=action == "grant", reason="原因", actor=w["users"]["district"])
    return w["users"]["district"]


def _amendment_make(w):
    from credits.models import ComplianceReport
    from credits.services import ledger_adjust

    ComplianceReport.objects.create(year=2025, kind="closed", status="done")  # 2025 is closed (CR-9)
    return ledger_adjust(teacher_id=w["city"]["teachers"][0].pk, entry_date=dt.date(2025, 12, 1), hours=D(2),
                         credits=D(2), reason="补录", actor=w["users"]["bureau"])


def _amendment_run(w, amendment, action):
    from credits.amendments import amendment_decide
    from credits.posting import ledger_sync

    if action == "withdraw":  # the source no longer wants the posting: the ledger withdraws its 补报
        ledger_sync(source_key=amendment.source_key, wanted=None, actor=w["users"]["bureau"], reason="撤回")
    else:
        amendment_decide(amendment_id=amendment.pk, approve=action == "approve", reason="原因", actor=w["users"]["bureau"])
    return w["users"]["bureau"]


WORKFLOWS = {
    "enrolment": Workflow(training_rules.TRANSITIONS, list(EnrolmentState.values), EnrolmentEvent,
                          lambda w: Enrolment.objects.create(project=_project(), teacher=w["city"]["teachers"][0]),
                          _enrolment_run, "当前状态为“.+”，不能执行“.+”", batch=frozenset({"promote"})),
    "project": Workflow(training_rules.PROJECT_TRANSITIONS, list(ProjectStatus.values), ProjectEvent,
                        lambda w: _project(status="draft"), _project_run, "项目当前为“.+”，不能执行“.+”"),
    "claim": Workflow(claims.TRANSITIONS, list(ClaimState.values), ClaimEvent, _claim_make, _claim_run,
                      "该申请当前为“.+”，不能执行“.+”，请刷新页面"),
    "hours_submission": Workflow(credit_rules.SUBMISSION_TRANSITIONS, list(SubmissionState.values), SubmissionEvent,
                                 _submission_make, _submission_run, "该申报已处理（.+），不能重复审核"),
    "exchange_proposal": Workflow(exchange.TRANSITIONS, list(ProposalStatus.values), ProposalEvent, _proposal_make,
                                  _proposal_run, "当前状态为“.+”，不能执行该操作", batch=frozenset({"place"})),
    "backbone_application": Workflow(backbone_rules.APPLICATION_TRANSITIONS, list(ApplicationStatus.values),
                                     ApplicationEvent, _application_make, _application_run, "该申报已处理",
                                     batch=frozenset({"shortlist", "not_select", "award"})),
    "backbone_round": Workflow(backbone_rules.ROUND_TRANSITIONS, list(RoundStatus.values), RoundEvent, _round_make,
                               _round_run, "评选当前为“.+”，不能执行该操作"),
    "exemption": Workflow(credit_rules.EXEMPTION_TRANSITIONS, list(ExemptionStatus.values), ExemptionEvent,
                          _exemption_make, _exemption_run, "该免考核申请当前为“.+”，不能执行“.+”"),
    "amendment": Workflow(credit_rules.AMENDMENT_TRANSITIONS, list(AmendmentState.values), AmendmentEvent,
                          _amendment_make, _amendment_run, "该补报当前为“.+”，不能“.+”", batch=frozenset({"withdraw"})),
    "roster_entry": Workflow(backbone_rules.ROSTER_TRANSITIONS, list(EntryStatus.values), RosterEvent, _entry_make,
                             _entry_run, "", batch=frozenset(backbone_rules.ROSTER_TRANSITIONS)),
}

FORBIDDEN = [(name, action, state) for name, flow in WORKFLOWS.items() for action, state in forbidden_pairs(flow.table, flow.states)]
ALLOWED = [(name, action, state) for name, flow in WORKFLOWS.items() for action, step in flow.table.items()
           for state in sorted(step.from_states)]


@pytest.fixture
def w(users, city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return {"users": users, "city": city}


def test_every_state_machine_has_a_table_over_its_own_states():
    for name, flow in WORKFLOWS.items():
        for action, step in flow.table.items():
            assert step.from_states <= set(flow.states) and step.to_state in flow.states, (name, action)
            assert step.label, (name, action)
    assert len(FORBIDDEN) > 150 and len(ALLOWED) > 40


@pytest.mark.parametrize("name,action,state", FORBIDDEN)
def test_every_forbidden_transition_is_refused_by_the_service(w, name, action, state):
    flow = WORKFLOWS[name]
    obj = flow.put(flow.make(w), state)
    before = flow.events(obj).count()
    if action in flow.batch:
        flow.run(w, obj, action)
    else:
        with pytest.raises(ApplicationError, match=flow.refused):
            flow.run(w, obj, action)
    assert flow.state_of(obj) == state
    assert flow.events(obj).count() == before


@pytest.mark.parametrize("name,action,state", ALLOWED)
def test_every_allowed_transition_writes_exactly_one_event(w, name, action, state):
    flow = WORKFLOWS[name]
    obj = flow.put(flow.make(w), state)
    before = set(flow.events(obj).values_list("pk", flat=True))
    actor = flow.run(w, obj, action)
    target = flow.table[action].to_state
    assert flow.state_of(obj) == target
    new = list(flow.events(obj).exclude(pk__in=before))
    assert [(e.action, e.from_state, e.to_state, e.actor_id) for e in new] == [
        (action, state, target, actor.pk if actor else None)
    ]
    assert new[0].created_at is not None



# --- Steps outside the tables: creation, and a result completing an enrolment ---------------------------


def _only_event(flow_name, obj):
    event = WORKFLOWS[flow_name].events(obj).get()
    return event.action, event.from_state, event.to_state, event.actor_id


def test_every_creation_writes_its_first_event(w):
    from credits.services import hours_submit

    users, (t1, _, _) = w["users"], w["city"]["teachers"]
    enrolment = enrolment_apply(project=_project(), teacher=t1, actor=users["teacher"], today=TODAY)
    assert _only_event("enrolment", enrolment) == ("apply", "", "applied", users["teacher"].pk)
    claim = _claim_make(w)
    assert _only_event("claim", claim) == ("submit", "", "school_review", users["teacher"].pk)
    submission = hours_submit(teacher=t1, kind="school_based", title="校本教研", studied_on=dt.date(2026, 10, 9),
                              hours=D("4"), theme="学科教学", evidence="教研记录", actor=users["teacher"], today=TODAY)
    assert _only_event("hours_submission", submission) == ("submit", "", "submitted", users["teacher"].pk)
    plan = exchange.plan_open(year=2026, actor=users["bureau"])
    proposal = exchange.proposal_create(plan=plan, teacher=t1, form="cluster", receiving_school=None, actor=users["teacher"])
    assert _only_event("exchange_proposal", proposal) == ("apply", "", "applied", users["teacher"].pk)
    round_ = backbone.round_open(year=2026, tier="县级", type_="骨干教师", places=1, district=w["city"]["districts"][0],
                                 actor=users["bureau"])
    assert _only_event("backbone_round", round_) == ("open", "", "open", users["bureau"].pk)


def test_the_round_award_writes_each_new_roster_entry_its_award_event(w):
    flow = WORKFLOWS["backbone_round"]
    round_ = flow.put(flow.make(w), RoundStatus.TRAINING)
    round_.applications.update(status=ApplicationStatus.PASSED)
    entries = backbone.round_award(round_=round_, awarded_on=TODAY, actor=w["users"]["bureau"])
    assert len(entries) == 2
    for entry in entries:
        assert _only_event("roster_entry", entry) == ("award", "", "active", w["users"]["bureau"].pk)


@pytest.mark.parametrize("state", ["applied", "school_approved", "approved", "attending", "rejected", "withdrawn"])
def test_recording_a_result_completes_the_enrolment_with_one_event(w, state):
    from training.services import result_record

    flow = WORKFLOWS["enrolment"]
    enrolment = flow.put(flow.make(w), state)
    result_record(project=enrolment.project, teacher=enrolment.teacher, grade="合格", completed_on=TODAY,
                  certified_hours=None, actor=w["users"]["bureau"])
    assert flow.state_of(enrolment) == "completed"
    assert _only_event("enrolment", enrolment) == ("result", state, "completed", w["users"]["bureau"].pk)


def test_a_result_for_a_teacher_without_enrolment_records_the_import(w):
    from training.services import result_record

    project, teacher = _project(), w["city"]["teachers"][0]
    result_record(project=project, teacher=teacher, grade="合格", completed_on=TODAY, certified_hours=None,
                  actor=w["users"]["bureau"])
    enrolment = Enrolment.objects.get(project=project, teacher=teacher)
    assert _only_event("enrolment", enrolment) == ("import", "", "completed", w["users"]["bureau"].pk)


def test_an_objection_is_recorded_without_changing_the_application(w):
    flow = WORKFLOWS["backbone_application"]
    application = flow.put(flow.make(w), ApplicationStatus.RECOMMENDED)
    SelectionRound.objects.filter(pk=application.round_id).update(status=RoundStatus.NOTICE)
    backbone_objections.objection_record(application=application, text="材料存疑", actor=w["users"]["bureau"])
    assert flow.state_of(application) == "recommended"
    assert _only_event("backbone_application", application) == (
        "objection", "recommended", "recommended", w["users"]["bureau"].pk)


@pytest.mark.django_db(transaction=True)
def test_an_event_is_written_only_inside_the_transaction_of_its_change():
    from bureau.services import event_record

    with pytest.raises(RuntimeError, match="transaction"):
        event_record(RoundEvent, obj=SelectionRound(pk=1), action="open", from_state="", to_state="open", actor=None)


def test_placing_one_proposal_alone_is_refused(w):
    flow = WORKFLOWS["exchange_proposal"]
    proposal = flow.put(flow.make(w), ProposalStatus.APPROVED)
    with pytest.raises(ApplicationError, match="未知操作"):
        exchange.proposal_transition(proposal=proposal, action="place", actor=w["users"]["bureau"])
    assert flow.state_of(proposal) == "approved" and not flow.events(proposal).exists()


def test_creating_a_project_or_an_exemption_writes_its_first_event(w):
    from credits.exemptions import exemption_grant
    from training.projects import project_create

    users, t2 = w["users"], w["city"]["teachers"][1]
    project = project_create(actor=users["district"], fields=dict(
        code="N1", name="县级研修", mode="集中面授", kind="必修", theme="学科教学", hours=D("8"), credits=None,
        start_on=dt.date(2027, 1, 5), end_on=dt.date(2027, 1, 5), organiser="区进修学校", capacity=None,
        enrol_opens_on=None, enrol_closes_on=None, target_stages=[], target_subjects=[], target_titles=[]))
    assert _only_event("project", project) == ("create", "", "draft", users["district"].pk)
    asked = _exemption_make(w)
    assert _only_event("exemption", asked) == ("request", "", "requested", users["principal"].pk)
    granted = exemption_grant(teacher=t2, year=2026, kind="其他", reason="借调", actor=users["bureau"], today=TODAY)
    assert _only_event("exemption", granted) == ("grant", "", "granted", users["bureau"].pk)
