"""The pure orders the rules use and the choices the models use are one vocabulary."""

from bureau import vocabulary
from bureau.choices import Education, Grade, Title


def test_title_order_is_the_order_of_the_title_choices():
    assert vocabulary.TITLE_ORDER == tuple(Title.values)


def test_education_order_is_the_order_of_the_education_choices():
    assert vocabulary.EDUCATION_ORDER == tuple(Education.values)


def test_passing_grades_are_grades_and_exclude_fail_and_incomplete():
    assert set(vocabulary.PASSING_GRADES) <= set(Grade.values)
    assert Grade.FAIL not in vocabulary.PASSING_GRADES and Grade.INCOMPLETE not in vocabulary.PASSING_GRADES
