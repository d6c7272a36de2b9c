"""One transition style for every state machine (habits 6 and 17), pure: no Django import.

Each workflow keeps one table, action -> Transition (allowed from-states, to-state, label, and where it
matters the roles that may take it and whether a reason is required), in one place of its app:
enrolment and project life cycle in training/rules.py, claims in credits/claims.py, hours submissions in
credits/rules.py, exchange proposals in exchange/services.py, selection rounds, applications and roster
entries in backbone/rules.py. Its service guards the from-state with `transition_guard` (a Chinese
ApplicationError) and writes one event row (bureau.services.event_record) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import ApplicationError


@dataclass(frozen=True)
class Transition:
    from_states: frozenset[str]
    to_state: str
    label: str
    roles: frozenset[str] = frozenset()
    needs_reason: bool = False


def transition(from_states: Iterable[str], to_state: str, label: str, *, roles: Iterable[str] = (),
               needs_reason: bool = False) -> Transition:
    return Transition(frozenset(from_states), to_state, label, frozenset(roles), needs_reason)


Table = Mapping[str, Transition]


def next_state(table: Table, state: str, action: str) -> str | None:
    """The state after `action`, or None when the action is not allowed from `state`."""
    step = table[action]
    return step.to_state if state in step.from_states else None


def transition_guard(table: Table, *, action: str, state: str, refusal: str, state_label: str = "") -> Transition:
    """The transition `action` from `state`, or an ApplicationError when the table does not allow it.

    `refusal` is the workflow's own Chinese message; `{state}` and `{label}` in it become the current
    state's label and the action's label."""
    step = table[action]
    if state not in step.from_states:
        raise ApplicationError(refusal.format(state=state_label or state, label=step.label))
    return step


def forbidden_pairs(table: Table, states: Iterable[str]) -> list[tuple[str, str]]:
    """Every (action, from-state) the table refuses: what the per-workflow tests walk through."""
    states = list(states)
    return [(action, state) for action, step in table.items() for state in states if state not in step.from_states]
