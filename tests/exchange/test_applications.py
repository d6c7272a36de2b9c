"""EX-5 (amended) individual applications only from eligible teachers, the school agrees, the district
approves; EX-7 (amended) read from the database; the pages that show them."""

import datetime as dt

import pytest

from bureau.models import Posting
from bureau.services import ApplicationError
from exchange.models import Proposal, ProposalEvent
from exchange.selectors import promotion_check
from exchange.services import proposal_create, proposal_transition
from tests.exchange.test_plan import YEAR, teacher, world  # noqa: F401 (fixture)
from tests.factories import SchoolFactory, UserFactory


@pytest.fixture
def newcomer(world):
    """A teacher of the home school who joined in 2025: not eligible in 2026, with a login."""
    from bureau.services import user_assign_role

    t = teacher(world["home"], "NEW", joined=dt.date(2025, 9, 1))
    user = UserFactory()
    user_assign_role(user=user, role="teacher", teacher=t, actor=None)
    return t, user


def test_ex5_an_ineligible_teacher_cannot_apply_and_is_told_why(world, newcomer):
    t, user = newcomer
    with pytest.raises(ApplicationError) as refused:
        proposal_create(plan=world["plan"], teacher=t, form="individual", receiving_school=None, actor=user)
    assert str(refused.value) == (
        "您不在本年度应交流名单中（2026 年度）：自入校（2025-09-01）起在本校任职不满6年，"
        "也不属于超编学校学科富余教师，不能个人申请交流。"
    )
    assert not Proposal.objects.exists()


def test_ex5_principal_cannot_file_an_ineligible_teacher_as_an_individual_application(world, newcomer):
    t, _ = newcomer
    with pytest.raises(ApplicationError, match="不在本年度应交流名单"):
        proposal_create(plan=world["plan"], teacher=t, form="individual", receiving_school=world["away"],
                        actor=world["principal"])


def test_ex5_school_agrees_and_district_approves_every_step_audited(world):
    w = world
    proposal = proposal_create(plan=w["plan"], teacher=w["t"], form="cluster", receiving_school=None, actor=w["teacher_user"])
    proposal_transition(proposal=proposal, action="propose", actor=w["principal"], receiving_school=w["away"], note="同意")
    proposal_transition(proposal=proposal, action="approve", actor=w["district"], note="批准")
    events = list(ProposalEvent.objects.filter(proposal=proposal).order_by("pk").values_list("action", "to_state", "actor"))
    assert events == [("apply", "applied", w["teacher_user"].pk), ("propose", "proposed", w["principal"].pk),
                      ("approve", "approved", w["district"].pk)]


def test_ex5_school_cannot_agree_once_the_teacher_is_no_longer_eligible(world):
    w = world
    proposal = proposal_create(plan=w["plan"], teacher=w["t"], form="individual", receiving_school=None,
                               actor=w["teacher_user"])
    # Meanwhile the record shows an exchange covering 31 August: the teacher is away, not eligible.
    Posting.objects.create(teacher=w["t"], school=w["away"], kind="rural_support", started_on=dt.date(2025, 9, 1),
                           ended_on=dt.date(2026, 8, 31))
    with pytest.raises(ApplicationError, match="参照日正在交流中"):
        proposal_transition(proposal=proposal, action="propose", actor=w["principal"], receiving_school=w["away"])
    assert Proposal.objects.get(pk=proposal.pk).status == "applied"


def test_teacher_page_says_why_and_offers_no_application(client, world, newcomer):
    t, user = newcomer
    client.force_login(user)
    page = client.get(f"/exchange/me/?year={YEAR}").content.decode()
    assert "不在 2026 年度应交流名单中：自入校（2025-09-01）起在本校任职不满6年" in page
    assert "个人申请交流</button>" not in page and 'id="apply-refused"' in page
    response = client.post("/exchange/propose/", {"year": YEAR, "form": "individual", "next": "/exchange/me/"}, follow=True)
    assert "不能个人申请交流" in response.content.decode()
    assert not Proposal.objects.exists()


def test_teacher_page_of_an_eligible_teacher_offers_the_application(client, world):
    client.force_login(world["teacher_user"])
    page = client.get(f"/exchange/me/?year={YEAR}").content.decode()
    assert "属于 2026 年度应交流教师（任职满6年）" in page and "个人申请交流</button>" in page
    assert "EX-" not in page
    client.post("/exchange/propose/", {"year": YEAR, "form": "individual", "next": "/exchange/me/"})
    assert Proposal.objects.get().status == "applied"


def test_school_page_shows_staffing_and_overview_the_inclusive_ages(client, world):
    w = world
    w["home"].staffing_quota = 0
    w["home"].save()
    client.force_login(w["principal"])
    page = client.get(f"/exchange/school/?year={YEAR}").content.decode()
    assert "本校在职教师 1 人，编制数 0 人" in page and "超编 1 人" in page
    client.force_login(w["bureau"])
    page = client.get(f"/exchange/?year={YEAR}").content.decode()
    assert "男55周岁及以下、女50周岁及以下" in page and "EX-" not in page


# --- EX-7 (amended) from the posting history ----------------------------------------------------------------

ON = dt.date(2026, 11, 23)


def _senior_check(stage, location, age):
    school = SchoolFactory(stage=stage, location=location)
    born = dt.date(ON.year - age, ON.month, ON.day)
    t = teacher(school, f"{stage}{location}{age}", birth=born, joined=dt.date(2012, 9, 1))
    rural = SchoolFactory(stage="小学", location="乡村")
    Posting.objects.create(teacher=t, school=rural, kind="rural_support", started_on=dt.date(2010, 9, 1),
                           ended_on=dt.date(2011, 8, 31))  # one rural year
    return promotion_check(teacher=t, target_title="高级教师", on=ON)


@pytest.mark.parametrize("location, checked", [("城区", True), ("镇区", True), ("乡村", False)])
def test_ex7_amended_town_teachers_are_checked_rural_ones_not(db, location, checked):
    school = SchoolFactory(stage="初中", location=location)
    t = teacher(school, "P1", birth=dt.date(1990, 1, 1))
    assert bool(promotion_check(teacher=t, target_title="一级教师", on=ON)) is checked


@pytest.mark.parametrize("stage, age, missing", [
    ("初中", 40, True), ("初中", 41, False), ("高中", 40, False), ("高中", 41, False),
    ("完全中学", 40, False), ("九年一贯制", 40, True), ("小学", 40, True),
])
def test_ex7_amended_two_rural_years_at_40_only_at_compulsory_schools(db, stage, age, missing):
    assert bool(_senior_check(stage, "镇区", age)) is missing


def test_ex5_reason_for_a_teacher_outside_the_exchange_stages(world):
    from exchange.selectors import exchange_standing

    high = SchoolFactory(stage="高中")
    t = teacher(high, "HS1")
    assert exchange_standing(YEAR, world["plan"].rules(), t) == (
        None, "所在学校学段为高中，交流轮岗限小学、初中、九年一贯制学校")
