"""Build small xlsx files for import tests (plain openpyxl, as a user's Excel would save them)."""

import io

from openpyxl import Workbook

SCHOOL_HEADERS = ["学校代码", "学校名称", "区县", "学段", "城乡类型", "薄弱学校", "片区", "编制数"]
TEACHER_HEADERS = [
    "工号", "姓名", "性别", "出生日期", "身份证号", "学校代码", "任教学科", "职称", "学历",
    "参加工作日期", "入校日期", "编制类型", "在职状态", "班主任",
]


def xlsx_bytes(headers, rows, *, title="Sheet1") -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    if headers is not None:
        sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def write_xlsx(path, headers, rows) -> str:
    path.write_bytes(xlsx_bytes(headers, rows).getvalue())
    return str(path)
