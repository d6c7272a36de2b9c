"""The exchange workbook (SPEC §7): 学校指标 and 应交流教师, sorted by 学校代码 then 工号."""

from bureau.spreadsheets import About, SheetSpec, write_workbook

QUOTA_HEADERS = ["学校代码", "学校名称", "应交流人数", "最低交流人数"]
ELIGIBLE_HEADERS = ["工号", "姓名", "学校代码", "性别", "年龄", "本校任职年限", "原因"]


def write_exchange_workbook(target, *, quotas, eligible, year: int | None = None, by=None) -> None:
    write_workbook(
        target,
        [
            SheetSpec("学校指标", QUOTA_HEADERS, ([q.code, q.name, q.eligible, q.minimum] for q in quotas), widths={1: 30}),
            SheetSpec(
                "应交流教师",
                ELIGIBLE_HEADERS,
                ([e.staff_no, e.name, e.school_code, e.gender, e.age, e.years_at_school, e.reason] for e in eligible),
            ),
        ],
        about=About("教师交流轮岗测算", year=year, scope="全市", by=by),
    )
