"""CR-11 duplicate recognition claims: the pure rule at its edges, the selector, the refusal of an approval
without a checked reason, the review page showing the match, the new form fields per role, query counts."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from bureau.models import AuditEntry
from bureau.services import ApplicationError
from credits import rules
from credits.claims import claim_transition, duplicate_matches
from credits.models import Claim, ClaimEvent, LedgerEntry, Source
from tests.credits.test_claims import NOW, media, pdf, submit  # noqa: F401 - shared helpers and fixture

D1, D2 = dt.date(2026, 10, 10), dt.date(2026, 10, 12)


def facts(**over):
    values = dict(project_code="", certificate_no="", organiser="北京师范大学", started_on=D1, ended_on=D2)
    values.update(over)
    return rules.ClaimFacts(**values)


def prior(kind="claim", **over):
    values = dict(kind=kind, record_id=1, project_code="", certificate_no="", organiser="", started_on=D1,
                  ended_on=D1, hours=D("8"), source=Source.EXTERNAL_CERTIFICATE)
    values.update(over)
    return rules.PriorRecord(**values)


# --- The pure rule --------------------------------------------------------------------------------


def test_cr11_same_project_code_matches_ignoring_case_and_blanks():
    [match] = rules.claim_duplicates(facts(project_code="GP-2026-01"), [prior("ledger", project_code=" gp-2026-01")])
    assert match.reasons == ("项目编号相同",)


def test_cr11_blank_codes_never_match():
    assert rules.claim_duplicates(facts(), [prior(project_code="", certificate_no="")]) == []


def test_cr11_same_certificate_number_matches():
    [match] = rules.claim_duplicates(facts(certificate_no="ZS0001"), [prior(certificate_no="ZS0001")])
    assert match.reasons == ("证书编号相同",)


def test_cr11_same_organiser_one_day_of_overlap_matches():
    other = prior(organiser="北京 师范大学", started_on=D2, ended_on=D2 + dt.timedelta(days=3))
    [match] = rules.claim_duplicates(facts(), [other])
    assert match.reasons == ("主办单位相同且培训日期重叠",)


def test_cr11_same_organiser_adjacent_dates_do_not_match():
    before = prior(organiser="北京师范大学", started_on=D1 - dt.timedelta(days=5), ended_on=D1 - dt.timedelta(days=1))
    after = prior(organiser="北京师范大学", started_on=D2 + dt.timedelta(days=1), ended_on=D2 + dt.timedelta(days=2))
    assert rules.claim_duplicates(facts(), [before, after]) == []


def test_cr11_other_organiser_with_the_same_dates_does_not_match():
    assert rules.claim_duplicates(facts(), [prior(organiser="华东师范大学", started_on=D1, ended_on=D2)]) == []


# --- Selector and approval ------------------------------------------------------------------------


def at_district(users, city, **over) -> Claim:
    claim = submit(users, city, **over)
    return claim_transition(claim=claim, action="school_approve", actor=users["principal"], now=NOW)


def approved(users, city, **over) -> Claim:
    return claim_transition(claim=at_district(users, city, **over), action="district_approve", actor=users["district"],
                            now=NOW)


def ledger_row(teacher, code, **over):
    values = dict(teacher=teacher, entry_date=dt.date(2026, 5, 6), hours=D("12"), credits=D("12"),
                  source=Source.TRAINING_RESULT, project_code=code, source_key=f"result:{code}")
    values.update(over)
    return LedgerEntry.objects.create(**values)


def test_cr11_ledger_row_with_the_same_project_code_is_found(users, city, media):
    row = ledger_row(city["teachers"][0], "GP-7")
    ledger_row(city["teachers"][1], "GP-7", source_key="result:other")  # another teacher's: not a match
    claim = at_district(users, city, project_code="gp-7")
    [match] = duplicate_matches([claim])[claim.pk]
    assert (match.record.kind, match.record.record_id, match.record.started_on, match.record.hours) == (
        "ledger", row.pk, dt.date(2026, 5, 6), D("12.00"))


def test_cr11_a_reversed_ledger_row_is_not_a_match(users, city, media):
    row = ledger_row(city["teachers"][0], "GP-7")
    ledger_row(city["teachers"][0], "GP-7", hours=D("-12"), credits=D("-12"), reverses=row, revision=2)
    claim = at_district(users, city, project_code="GP-7")
    assert duplicate_matches([claim]) == {}


def test_cr11_a_withdrawn_earlier_claim_is_not_a_match(users, city, media):
    first = approved(users, city, certificate_no="ZS0001")
    claim = at_district(users, city, certificate_no="ZS0001")
    assert [m.record.record_id for m in duplicate_matches([claim])[claim.pk]] == [first.pk]
    claim_transition(claim=first, action="withdraw", actor=users["bureau"], reason="重复认定", now=NOW)
    assert duplicate_matches([claim]) == {}


def test_cr11_pending_claims_do_not_match_each_other(users, city, media):
    one = at_district(users, city, certificate_no="ZS0001")
    two = at_district(users, city, certificate_no="ZS0001")
    assert duplicate_matches([one, two]) == {}


def test_cr11_approval_of_a_match_is_refused_without_a_checked_reason(users, city, media):
    first = approved(users, city)  # same organiser, same dates
    claim = at_district(users, city, title="同一培训再次申请")
    for checked, reason in ((False, ""), (True, ""), (False, "两次培训不同")):
        with pytest.raises(ApplicationError, match="疑似重复") as refused:
            claim_transition(claim=claim, action="district_approve", actor=users["district"], reason=reason,
                             duplicate_checked=checked, now=NOW)
        assert f"学时认定申请 #{first.pk}" in str(refused.value)
    claim.refresh_from_db()
    assert claim.state == "district_review" and LedgerEntry.objects.filter(source_key=f"claim:{claim.pk}").count() == 0


def test_cr11_approval_of_a_match_with_a_checked_reason_is_recorded(users, city, media):
    first = approved(users, city)
    claim = at_district(users, city)
    claim_transition(claim=claim, action="district_approve", actor=users["district"], reason="上下午两期，核对无误",
                     duplicate_checked=True, now=NOW)
    claim.refresh_from_db()
    assert claim.state == "approved" and LedgerEntry.objects.filter(source_key=f"claim:{claim.pk}").count() == 1
    event = ClaimEvent.objects.get(claim=claim, action="district_approve")
    assert event.reason.startswith("上下午两期，核对无误（已核对重复记录：") and f"#{first.pk}" in event.reason
    entry = AuditEntry.objects.filter(action="credits.claim.district_approve", object_id=str(claim.pk)).get()
    assert entry.data["reason"] == event.reason and entry.actor == users["district"]
    assert len(entry.data["duplicates"]) == 1 and f"学时认定申请 #{first.pk}" in entry.data["duplicates"][0]


def test_cr11_without_a_match_nothing_changes(users, city, media):
    approved(users, city, organiser="华东师范大学")
    claim = approved(users, city)
    assert claim.state == "approved"
    assert ClaimEvent.objects.get(claim=claim, action="district_approve").reason == ""


def test_cr11_the_posted_row_carries_the_claims_project_code(users, city, media):
    claim = approved(users, city, project_code="GP-9")
    assert LedgerEntry.objects.get(source_key=f"claim:{claim.pk}").project_code == "GP-9"


# --- Pages ----------------------------------------------------------------------------------------


def test_review_page_shows_the_match_and_the_check(client, users, city, media):
    first = approved(users, city, project_code="GP-7")
    claim = at_district(users, city, project_code="GP-7", organiser="别处")
    plain = at_district(users, city, organiser="另一单位", started_on=dt.date(2026, 9, 1), ended_on=dt.date(2026, 9, 1))
    client.force_login(users["district"])
    page = client.get(reverse("claims:review")).content.decode()
    assert page.count("疑似重复") == 1 and f"学时认定申请 #{first.pk}" in page and "项目编号相同" in page
    assert page.count('name="duplicate_checked"') == 1
    refused = client.post(reverse("claims:act", args=[claim.pk]), {"action": "district_approve"}, follow=True)
    assert "疑似重复" in refused.content.decode()
    assert Claim.objects.get(pk=claim.pk).state == "district_review"
    client.post(reverse("claims:act", args=[claim.pk]),
                {"action": "district_approve", "duplicate_checked": "1", "reason": "补录，已核对"})
    client.post(reverse("claims:act", args=[plain.pk]), {"action": "district_approve"})
    assert set(Claim.objects.filter(pk__in=[claim.pk, plain.pk]).values_list("state", flat=True)) == {"approved"}


@pytest.mark.parametrize("role,status", [("teacher", 200), ("principal", 403), ("district", 403), ("bureau", 403),
                                         ("auditor", 403), (None, 302)])
def test_claim_form_with_codes_per_role(client, users, media, role, status):
    if role:
        client.force_login(users[role])
    response = client.get(reverse("claims:mine"))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert 'name="project_code"' in page and 'name="certificate_no"' in page


def test_teacher_submits_the_codes_through_the_form(client, users, media):
    client.force_login(users["teacher"])
    client.post(reverse("claims:mine"), {
        "title": "省级培训", "organiser": "省教育学院", "project_code": " GP-1 ", "certificate_no": "ZS9",
        "started_on": "2026-10-01", "ended_on": "2026-10-02", "hours": "16", "mode": "网络研修", "theme": "信息技术",
        "evidence": pdf(),
    })
    assert Claim.objects.values_list("project_code", "certificate_no").get() == ("GP-1", "ZS9")


def test_review_page_query_count_with_matches(client, users, city, media, django_assert_max_num_queries):
    for i in range(3):
        approved(users, city, project_code=f"GP-{i}", organiser=f"机构{i}")
    for i in range(12):
        at_district(users, city, project_code=f"GP-{i % 4}", certificate_no=f"ZS{i}", title=f"培训{i}")
    client.force_login(users["district"])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("claims:review")).content.decode()
    assert page.count("疑似重复") >= 9
