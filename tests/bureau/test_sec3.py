"""SEC-3 around the edges: logs mask ID numbers whatever wrote them; exports of a real roster leave them out."""

import logging

from django.core.management import call_command
from openpyxl import load_workbook

from bureau.logfilters import MaskIdNumbers
from tests.factories import make_id_number


def test_log_filter_masks_id_numbers_in_messages_and_exceptions():
    import datetime as dt

    number = make_id_number(dt.date(1985, 3, 14), male=False)
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "Key (id_number)=(%s) already exists", (number,), None)
    MaskIdNumbers().filter(record)
    assert number not in record.getMessage() and number[0] + "*" * 16 + number[-1] in record.getMessage()
    try:
        raise ValueError(f"DETAIL: Key (id_number)=({number})")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    MaskIdNumbers().filter(record)
    assert number not in (record.exc_text or "") and record.exc_info is None


def test_seed_export_of_an_existing_roster_leaves_id_numbers_out(city, tmp_path):
    call_command("seed_demo", "--export", str(tmp_path))
    sheet = load_workbook(tmp_path / "teachers.xlsx").active
    header = [c.value for c in sheet[1]]
    column = header.index("身份证号")
    assert all(row[column] is None for row in sheet.iter_rows(min_row=2, values_only=True))


def test_api_schema_and_docs_need_a_login(client, db):
    assert client.get("/api/schema/").status_code in (401, 403)
    docs = client.get("/api/docs/")  # a person is asked to log in and comes back (issue 17 item 5)
    assert docs.status_code == 302 and docs["Location"] == "/accounts/login/?next=/api/docs/"
