import datetime as dt

import pytest

from bureau.rules import IdNumberError, check_id_number, full_years, id_number_is_male, mask_id_number
from tests.factories import make_id_number

BIRTH = dt.date(1985, 3, 14)


def test_valid_id_number_passes_and_is_normalised():
    number = make_id_number(BIRTH, male=True)
    assert check_id_number(number.lower(), birth_date=BIRTH, male=True) == number.upper()


def test_known_real_format_with_x_check_digit():
    # GB 11643 example: 11010519491231002X (a woman born 1949-12-31)
    assert check_id_number("11010519491231002x", birth_date=dt.date(1949, 12, 31), male=False) == "11010519491231002X"


def test_wrong_check_digit_names_the_right_one():
    number = make_id_number(BIRTH, male=True)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(IdNumberError, match=f"校验位错误，应为 {number[-1]}"):
        check_id_number(wrong, birth_date=BIRTH, male=True)


@pytest.mark.parametrize("bad, reason", [("43068119850314001", "应为18位"), ("4306811985031400AX", "格式错误")])
def test_length_and_format(bad, reason):
    with pytest.raises(IdNumberError, match=reason):
        check_id_number(bad, birth_date=None, male=None)


def test_birth_date_must_agree():
    number = make_id_number(BIRTH, male=True)
    with pytest.raises(IdNumberError, match="与出生日期不符"):
        check_id_number(number, birth_date=BIRTH + dt.timedelta(days=1), male=True)


def test_gender_must_agree():
    number = make_id_number(BIRTH, male=False)
    assert not id_number_is_male(number)
    with pytest.raises(IdNumberError, match="与性别不符"):
        check_id_number(number, birth_date=BIRTH, male=True)


def test_impossible_encoded_date():
    body = "43068119850230001"  # 30 February
    from stdnum.cn import ric

    with pytest.raises(IdNumberError, match="不是有效日期"):
        check_id_number(body + ric.calc_check_digit(body + "0"), birth_date=None, male=None)


def test_sec3_mask_shows_first_six_and_last_four():
    assert mask_id_number("43068119850314001X") == "4****************X"
    assert mask_id_number("12") == "**"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""


@pytest.mark.parametrize(
    "start, on, years",
    [
        (dt.date(1971, 8, 31), dt.date(2026, 8, 31), 55),  # birthday on the day counts
        (dt.date(1971, 9, 1), dt.date(2026, 8, 31), 54),  # one day short
        (dt.date(2000, 2, 29), dt.date(2026, 2, 28), 25),
        (dt.date(2000, 2, 29), dt.date(2026, 3, 1), 26),
    ],
)
def test_full_years_counts_anniversary_on_the_day(start, on, years):
    assert full_years(start, on) == years
