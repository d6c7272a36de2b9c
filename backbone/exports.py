"""backbone_candidates workbook: one sheet 候选人, sorted by 学校代码 then 工号."""

from bureau.spreadsheets import SheetSpec, write_workbook

CANDIDATE_HEADERS = ["工号", "姓名", "学校代码", "职称", "年龄", "教龄"]


def write_candidates(target, candidates) -> None:
    rows = ([c.staff_no, c.name, c.school_code, c.title, c.age, c.teaching_years] for c in candidates)
    write_workbook(target, [SheetSpec("候选人", CANDIDATE_HEADERS, rows)])
