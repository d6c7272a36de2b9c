"""The review's score sheet (评审得分表): 工号, 姓名, 评审得分, on the shared importer of bureau.importing."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from bureau.importing import Column, Importer, ImportReport, ParsedRow
from bureau.spreadsheets import CellError, as_decimal, as_text

from .models import ApplicationStatus, SelectionRound
from .services import review_score, score_problem

SCORE_HEADERS = ["工号", "姓名", "评审得分"]


def _score(value: Any) -> Decimal:
    number = as_decimal(value, places=4)
    problem = score_problem(number)
    if problem:
        raise CellError(f"“{value}”{problem}")
    return number.quantize(Decimal("0.01"))


class ScoreImporter(Importer):
    """Scores of one round in review, per 工号 of its candidates; 姓名 must match the candidate."""

    key = "工号"
    audit_action = "backbone.scores.imported"
    object_type = "backbone.application"
    columns = [
        Column("工号", partial(as_text, max_length=32)),
        Column("姓名", partial(as_text, max_length=64)),
        Column("评审得分", _score),
    ]

    def __init__(self, *, round_: SelectionRound, actor, today):
        super().__init__(actor=actor, today=today)
        self.round = round_

    def check_references(self, rows: list[ParsedRow]) -> dict[int, list[tuple[str, str]]]:
        self.candidates = {
            a.teacher.staff_no: a
            for a in self.round.applications.filter(status=ApplicationStatus.RECOMMENDED,
                                                    teacher__staff_no__in={r.data["工号"] for r in rows})
            .select_related("teacher")
        }
        problems: dict[int, list[tuple[str, str]]] = {}
        for row in rows:
            application = self.candidates.get(row.data["工号"])
            if application is None:
                problems.setdefault(row.number, []).append(("工号", f"“{row.data['工号']}”不是本次评选的候选人"))
            elif application.teacher.name != row.data["姓名"]:
                problems.setdefault(row.number, []).append(
                    ("姓名", f"“{row.data['姓名']}”与工号对应的候选人（{application.teacher.name}）不符"))
        return problems

    def write(self, rows: list[ParsedRow], report: ImportReport) -> None:
        scores = {self.candidates[r.data["工号"]].pk: r.data["评审得分"] for r in rows}
        report.updated = review_score(round_=self.round, scores=scores, actor=self.actor)
        report.unchanged = len(rows) - report.updated
