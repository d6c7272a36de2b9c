"""候补 (waiting list): a full project takes waiting teachers; a freed seat goes, in the freeing lock, to
the first eligible one (oldest first), who is told so."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from bureau.choices import Role
from bureau.models import Notice
from bureau.services import ApplicationError, user_assign_role
from tests.factories import SchoolFactory, TeacherFactory, UserFactory
from training.models import Enrolment, EnrolmentEvent, Project, ProjectShare
from training.services import enrolment_apply, enrolment_transition
from training.shares import share_set
from training.waitlist import waitlist_promote, waitlist_sweep

TODAY = dt.date(2026, 11, 23)


def make_project(**over):
    values = dict(code="P1", name="新课标研修", level="市培", mode="集中面授", kind="必修", theme="学科教学",
                  hours=D("24"), start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="市教师发展中心",
                  status="enrolling", capacity=1)
    values.update(over)
    return Project.objects.create(**values)


def teacher_user(teacher):
    user = UserFactory()
    user_assign_role(user=user, role=Role.TEACHER, teacher=teacher, actor=None)
    return user


def apply(project, teacher, waitlist=False):
    return enrolment_apply(project=project, teacher=teacher, actor=teacher.user or teacher_user(teacher), today=TODAY,
                           waitlist=waitlist)


def state(enrolment):
    enrolment.refresh_from_db()
    return enrolment.state


@pytest.fixture
def full(users, city):
    """A one-seat project held by T1; two teachers of S1 waiting, the older first."""
    project = make_project()
    holder = apply(project, city["teachers"][0])
    s1 = city["schools"][0]
    first, second = TeacherFactory(school=s1, name="候一"), TeacherFactory(school=s1, name="候二")
    w1, w2 = apply(project, first, waitlist=True), apply(project, second, waitlist=True)
    return {"project": project, "holder": holder, "w1": w1, "w2": w2}


def test_a_full_project_refuses_unless_the_teacher_chooses_to_wait(users, city, django_capture_on_commit_callbacks):
    project = make_project()
    apply(project, city["teachers"][0])
    other = TeacherFactory(school=city["schools"][0])
    with pytest.raises(ApplicationError, match="名额已满.*候补"):
        apply(project, other)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = apply(project, other, waitlist=True)
    assert waiting.state == "waitlisted"
    assert EnrolmentEvent.objects.get(enrolment=waiting).action == "waitlist"
    assert Notice.objects.filter(recipient=other.user, key=f"training.enrolment:{waiting.pk}:waitlist").exists()


def test_waitlist_is_only_for_a_full_project(users, city):
    enrolment = apply(make_project(), city["teachers"][0], waitlist=True)
    assert enrolment.state == "applied"


def test_a_withdrawal_promotes_the_oldest_waiting_teacher_and_tells_them(users, city, full,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrolment_transition(enrolment=full["holder"], action="withdraw", actor=users["teacher"], today=TODAY)
    assert (state(full["w1"]), state(full["w2"])) == ("applied", "waitlisted")
    event = EnrolmentEvent.objects.get(enrolment=full["w1"], action="promote")
    assert (event.from_state, event.to_state, event.actor_id) == ("waitlisted", "applied", None)
    promoted_user = full["w1"].teacher.user
    assert Notice.objects.filter(recipient=promoted_user, title__contains="候补递补成功").count() == 1
    # The principal must act next on the promoted enrolment.
    assert Notice.objects.filter(recipient=users["principal"], key=f"training.enrolment:{full['w1'].pk}:promote:todo").exists()


def test_a_rejection_frees_the_seat_too(users, city, full):
    enrolment_transition(enrolment=full["holder"], action="reject", actor=users["principal"], reason="课务冲突", today=TODAY)
    assert state(full["w1"]) == "applied"


def test_a_no_show_promotes_nobody(users, city, full):
    Enrolment.objects.filter(pk=full["holder"].pk).update(state="approved")
    enrolment_transition(enrolment=full["holder"], action="no_show", actor=users["bureau"], today=TODAY)
    assert (state(full["w1"]), state(full["w2"])) == ("waitlisted", "waitlisted")


def test_no_promotion_once_the_project_is_no_longer_enrolling(users, city, full):
    Project.objects.filter(pk=full["project"].pk).update(status="running")
    enrolment_transition(enrolment=full["holder"], action="withdraw", actor=users["teacher"], today=TODAY)
    assert state(full["w1"]) == "waitlisted"


def test_an_ineligible_first_waiter_is_skipped_and_keeps_waiting(users, city, full):
    full["w1"].teacher.status = "退休"
    full["w1"].teacher.save()
    enrolment_transition(enrolment=full["holder"], action="withdraw", actor=users["teacher"], today=TODAY)
    assert (state(full["w1"]), state(full["w2"])) == ("waitlisted", "applied")


def test_a_waiter_outside_the_audience_now_is_skipped(users, city, full):
    full["w1"].teacher.subject = "英语"
    full["w1"].teacher.save()
    Project.objects.filter(pk=full["project"].pk).update(target_subjects=["语文"])
    enrolment_transition(enrolment=full["holder"], action="withdraw", actor=users["teacher"], today=TODAY)
    assert (state(full["w1"]), state(full["w2"])) == ("waitlisted", "applied")


def test_a_waiter_whose_school_share_is_used_up_is_skipped(users, city):
    d1 = city["districts"][0]
    s1, s2, _ = city["schools"]
    project = make_project(capacity=3)
    share_set(project=project, district=d1, seats=3, actor=users["bureau"])
    share_set(project=project, school=s1, seats=1, actor=users["bureau"])
    share_set(project=project, school=s2, seats=2, actor=users["bureau"])
    done = apply(project, city["teachers"][0])  # S1's one seat: approved
    Enrolment.objects.filter(pk=done.pk).update(state="approved")
    holders = [apply(project, TeacherFactory(school=s2)) for _ in range(2)]
    w_s1 = apply(project, TeacherFactory(school=s1), waitlist=True)
    w_s2 = apply(project, TeacherFactory(school=s2), waitlist=True)
    enrolment_transition(enrolment=holders[0], action="withdraw", actor=holders[0].teacher.user, today=TODAY)
    assert (state(w_s1), state(w_s2)) == ("waitlisted", "applied")


def test_a_raised_share_lets_the_waiting_teacher_in(users, city):
    d1, s1 = city["districts"][0], city["schools"][0]
    project = make_project(capacity=2)
    share_set(project=project, district=d1, seats=1, actor=users["bureau"])
    approved = apply(project, city["teachers"][1])
    Enrolment.objects.filter(pk=approved.pk).update(state="approved")
    waiting = Enrolment.objects.create(project=project, teacher=TeacherFactory(school=s1), state="waitlisted")
    with transaction.atomic():  # a free seat, but the district's share is used up
        waitlist_promote(project=Project.objects.select_for_update().get(pk=project.pk), today=TODAY)
    assert state(waiting) == "waitlisted"
    share_set(project=project, district=d1, seats=2, actor=users["bureau"])
    assert state(waiting) == "applied"


def test_the_daily_sweep_promotes_once_the_shares_are_released(users, city):
    d2, s1 = city["districts"][1], city["schools"][0]
    project = make_project(capacity=2, shares_release_on=TODAY + dt.timedelta(days=1))
    ProjectShare.objects.create(project=project, district=d2, seats=2)
    waiting = Enrolment.objects.create(project=project, teacher=TeacherFactory(school=s1), state="waitlisted")
    assert waitlist_sweep(today=TODAY) == 0  # D1 has no share yet
    assert waitlist_sweep(today=TODAY + dt.timedelta(days=1)) == 1  # released: the common pool
    assert state(waiting) == "applied"


def test_a_new_applicant_never_jumps_the_queue(users, city):
    project = make_project(capacity=1)
    waiting = Enrolment.objects.create(project=project, teacher=TeacherFactory(school=city["schools"][0]),
                                       state="waitlisted")  # a seat is free (e.g. the capacity was raised)
    late = apply(project, city["teachers"][0], waitlist=True)
    assert (state(waiting), late.state) == ("applied", "waitlisted")


def test_a_waiting_teacher_may_leave_the_list(users, city, full):
    enrolment_transition(enrolment=full["w1"], action="withdraw", actor=full["w1"].teacher.user, today=TODAY)
    assert state(full["w1"]) == "withdrawn"
    enrolment_transition(enrolment=full["holder"], action="withdraw", actor=users["teacher"], today=TODAY)
    assert state(full["w2"]) == "applied"


def test_nobody_may_promote_by_hand(users, city, full):
    with pytest.raises(ApplicationError, match="未知操作"):
        enrolment_transition(enrolment=full["w1"], action="promote", actor=users["bureau"], today=TODAY)


@pytest.mark.django_db(transaction=True)
def test_the_last_seat_freed_goes_to_the_first_eligible_waiter_only_under_concurrency():
    """The holder withdraws (twice: a double click) while four more teachers apply for the same seat and
    the first waiter is not eligible: exactly one teacher, the first eligible waiter, takes the seat."""
    school = SchoolFactory()
    project = make_project(capacity=1)
    holder_teacher = TeacherFactory(school=school)
    holder = apply(project, holder_teacher)
    retired = TeacherFactory(school=school)
    w0 = apply(project, retired, waitlist=True)
    retired.status = "退休"
    retired.save()
    w1 = apply(project, TeacherFactory(school=school), waitlist=True)
    w2 = apply(project, TeacherFactory(school=school), waitlist=True)
    newcomers = [(t, teacher_user(t)) for t in (TeacherFactory(school=school) for _ in range(4))]
    jobs = [("withdraw", holder_teacher.user)] * 2 + [("apply", pair) for pair in newcomers]
    barrier = threading.Barrier(len(jobs))
    outcomes = []

    def run(kind, arg):
        try:
            barrier.wait()
            if kind == "withdraw":
                enrolment_transition(enrolment=holder, action="withdraw", actor=arg, today=TODAY)
            else:
                teacher, user = arg
                enrolment_apply(project=project, teacher=teacher, actor=user, today=TODAY, waitlist=True)
            outcomes.append(kind)
        except ApplicationError:
            outcomes.append(f"{kind} refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["apply"] * 4 + ["withdraw", "withdraw refused"]
    holding = list(Enrolment.objects.filter(project=project, state__in=["applied", "school_approved", "approved"]))
    assert [e.pk for e in holding] == [w1.pk]
    assert (state(w0), state(w2)) == ("waitlisted", "waitlisted")
    assert Enrolment.objects.filter(project=project, teacher__in=[t for t, _ in newcomers], state="waitlisted").count() == 4
    assert EnrolmentEvent.objects.filter(enrolment__project=project, action="promote").count() == 1
