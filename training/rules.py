"""Training rules as pure functions: the enrolment state machine and audience matching (SPEC §3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from bureau import workflow
from bureau.vocabulary import PASSING_GRADES  # noqa: F401  (training.rules.PASSING_GRADES: the one vocabulary)
from bureau.workflow import Transition, transition

# action -> allowed from-states, to-state, label. The one place the enrolment transitions live. Besides
# these steps, an enrolment is created by "apply" (teacher or principal) or "import" (a result for a
# teacher with no enrolment), and "result" (training.services.result_record) completes it from whatever
# state it was in when a result is recorded: the result, not the chain, is the evidence then.
TRANSITIONS: dict[str, Transition] = {
    "school_approve": transition({"applied"}, "school_approved", "学校审核通过"),
    "approve": transition({"school_approved"}, "approved", "主办单位录取"),
    "reject": transition({"applied", "school_approved"}, "rejected", "审核不通过", needs_reason=True),
    "start": transition({"approved"}, "attending", "开始参训"),
    "complete": transition({"approved", "attending"}, "completed", "结业"),
    "withdraw": transition({"applied", "school_approved", "approved", "waitlisted"}, "withdrawn", "退出"),
    "no_show": transition({"approved"}, "no_show", "未报到"),
    # 候补: a teacher who found the project full waits (holding no seat); when a seat frees, the first
    # eligible waiting teacher is moved to "applied" by the system (training.waitlist), never by a user.
    "promote": transition({"waitlisted"}, "applied", "候补递补"),
}

# Steps only the system takes (training.waitlist); enrolment_transition refuses them from users.
SYSTEM_ACTIONS = frozenset({"promote"})

# Steps that free a seat while the project is enrolling: the waiting list moves up in the same lock.
# A no-show frees no seat for the waiting list: it is marked once the training has begun.
SEAT_FREEING_ACTIONS = frozenset({"withdraw", "reject"})

ACTION_LABELS = {action: step.label for action, step in TRANSITIONS.items()}


def next_state(current: str, action: str) -> str | None:
    """The state after `action`, or None when the action is not allowed from `current`."""
    return workflow.next_state(TRANSITIONS, current, action)


@dataclass(frozen=True)
class Audience:
    stages: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    district_ids: tuple[int, ...] = ()


def audience_miss(audience: Audience, *, stage: str, subject: str, title: str, district_id: int) -> str | None:
    """Why a teacher is outside a project's target audience (Chinese), or None when inside. Empty = all."""
    if audience.stages and stage not in audience.stages:
        return f"本项目面向学段：{'、'.join(audience.stages)}"
    if audience.subjects and subject not in audience.subjects:
        return f"本项目面向学科：{'、'.join(audience.subjects)}"
    if audience.titles and title not in audience.titles:
        return f"本项目面向职称：{'、'.join(audience.titles)}"
    if audience.district_ids and district_id not in audience.district_ids:
        return "本项目不面向您所在区县"
    return None


# --- 名额分配 (quota allocation) and certificates ------------------------------------------------------

APPROVED_STATES = ("approved", "attending", "completed")
CERTIFYING_LEVELS = ("国培", "省培", "市培", "县培")


def shares_fit(*, parts: list[int], whole: int | None) -> bool:
    """Shares never add up to more than the level above (no capacity: nothing to split against)."""
    return whole is None or sum(parts) <= whole


def released(*, release_on, today) -> bool:
    """From the release date on, unused shares return to the common pool."""
    return release_on is not None and today >= release_on


def seat_free(*, used: int, share: int) -> bool:
    return used < share


def issues_certificates(*, level: str, setting: bool | None) -> bool:
    """A project issues certificates when set so; by default 国培, 省培, 市培 and 县培 do, 校本 and 师本 not."""
    return setting if setting is not None else level in CERTIFYING_LEVELS


def masked_name(name: str) -> str:
    """The public verification page shows the surname and a star: 张*."""
    return (name[:1] + "*") if name else ""


# Project life cycle (SPEC §3): draft → published → enrolling → running → finished → archived.
# A project is created as a draft (or, by the project import, as published or finished).
PROJECT_TRANSITIONS: dict[str, Transition] = {
    "publish": transition({"draft"}, "published", "发布"),
    "open_enrolment": transition({"published"}, "enrolling", "开始报名"),
    "start": transition({"published", "enrolling"}, "running", "开班"),
    "finish": transition({"running"}, "finished", "结束"),
    "archive": transition({"finished"}, "archived", "归档"),
}

PROJECT_ACTION_LABELS = {action: step.label for action, step in PROJECT_TRANSITIONS.items()}


def project_next_status(current: str, action: str) -> str | None:
    return workflow.next_state(PROJECT_TRANSITIONS, current, action)


# --- Reminder before the start --------------------------------------------------------------------------


def reminder_window(*, today, days: int):
    """The start dates whose approved trainees get their reminder today: from today to `days` days
    ahead, both ends included (a project starting today still gets one in the morning run)."""
    return today, today + dt.timedelta(days=days)
# --- Attendance (考勤) and the minimum attendance rate for a passing result --------------------------

# The enrolments an organiser takes attendance for: admitted and not withdrawn, rejected or a no-show.
ATTENDANCE_STATES = APPROVED_STATES


def attendance_rate(*, present: int, held: int) -> Decimal | None:
    """Attendance rate in percent: sessions present ÷ sessions held so far; None before the first session.
    Cut (never rounded up) to one decimal, so a rate shown is never above the true one."""
    if held <= 0:
        return None
    return (Decimal(present) * 100 / Decimal(held)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def percent_text(value: Decimal | int) -> str:
    """80 → "80", 66.6 → "66.6" (no trailing ".0")."""
    text = f"{Decimal(value):.1f}"
    return text[:-2] if text.endswith(".0") else text


def attendance_short(*, present: int, held: int, minimum: int | None) -> bool:
    """A project's minimum attendance rate (percent) for a passing result: below it, 优秀/合格 is refused.
    Exactly at the minimum passes; compared in whole numbers (present × 100 ≥ minimum × held), never in
    rounded percentages. No minimum, or no session held (online courses imported from platforms), never
    refuses."""
    if minimum is None or held <= 0:
        return False
    return present * 100 < minimum * held


def attendance_refusal(*, present: int, held: int, minimum: int) -> str:
    return f"出勤率 {percent_text(attendance_rate(present=present, held=held))}% 低于项目要求的 {minimum}%"


def is_no_show(*, state: str, present: int, held: int) -> bool:
    """The no-show list: marked 未报到, or admitted and present at none of the sessions held (once the first
    session has been held)."""
    if state == "no_show":
        return True
    return state in ATTENDANCE_STATES and held > 0 and present == 0


def certified_hours_refusal(*, certified: Decimal | None, project_hours: Decimal) -> str | None:
    """CR-10: certified hours may not exceed the project's hours (exactly the project's hours is fine).
    The reason for the 认定学时 field (Chinese), or None when plausible or not given."""
    if certified is None or certified <= project_hours:
        return None
    return f"{_figure(certified)} 超过项目学时 {_figure(project_hours)}，不能多于项目学时"


def _figure(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def teacher_status(state_label: str, grade: str | None) -> str:
    """What the teacher reads for an enrolment: its state until a result is recorded, then the result's
    outcome in the teacher's terms. A course left 未完成 or failed is never shown as 已结业."""
    if grade is None:
        return state_label
    if grade in PASSING_GRADES:
        return f"已结业（{grade}）"
    if grade == "未完成":
        return "未完成"
    return "考核不合格"
