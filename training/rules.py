"""Training rules as pure functions: the enrolment state machine and audience matching (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass

# action -> (allowed from-states, to-state). The one place the enrolment transitions live.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "school_approve": (frozenset({"applied"}), "school_approved"),
    "approve": (frozenset({"school_approved"}), "approved"),
    "reject": (frozenset({"applied", "school_approved"}), "rejected"),
    "start": (frozenset({"approved"}), "attending"),
    "complete": (frozenset({"approved", "attending"}), "completed"),
    "withdraw": (frozenset({"applied", "school_approved", "approved"}), "withdrawn"),
    "no_show": (frozenset({"approved"}), "no_show"),
}

ACTION_LABELS = {
    "school_approve": "学校审核通过",
    "approve": "主办单位录取",
    "reject": "审核不通过",
    "start": "开始参训",
    "complete": "结业",
    "withdraw": "退出",
    "no_show": "未报到",
}


def next_state(current: str, action: str) -> str | None:
    """The state after `action`, or None when the action is not allowed from `current`."""
    allowed, target = TRANSITIONS[action]
    return target if current in allowed else None


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
PROJECT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "publish": (frozenset({"draft"}), "published"),
    "open_enrolment": (frozenset({"published"}), "enrolling"),
    "start": (frozenset({"published", "enrolling"}), "running"),
    "finish": (frozenset({"running"}), "finished"),
    "archive": (frozenset({"finished"}), "archived"),
}

PROJECT_ACTION_LABELS = {
    "publish": "发布", "open_enrolment": "开始报名", "start": "开班", "finish": "结束", "archive": "归档",
}


def project_next_status(current: str, action: str) -> str | None:
    allowed, target = PROJECT_TRANSITIONS[action]
    return target if current in allowed else None
