"""factory_boy factories shared by the tests."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from stdnum.cn import ric

from bureau.choices import Education, EmploymentType, Gender, Location, PostingKind, Stage, Status, Title
from bureau.models import District, Posting, School, Teacher


def make_id_number(birth: dt.date, male: bool, region: str = "430681", serial: int = 1) -> str:
    body = f"{region}{birth:%Y%m%d}{serial % 100:02d}{1 if male else 2}"
    return body + ric.calc_check_digit(body + "0")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"第{n}区")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"S{n:05d}")
    name = factory.Sequence(lambda n: f"实验小学{n}")
    district = factory.SubFactory(DistrictFactory)
    stage = Stage.PRIMARY
    location = Location.URBAN


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Teacher
        skip_postgeneration_save = True

    staff_no = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.Sequence(lambda n: f"教师{n}")
    gender = Gender.FEMALE
    birth_date = dt.date(1985, 3, 14)
    school = factory.SubFactory(SchoolFactory)
    subject = "语文"
    title = Title.FIRST
    education = Education.BACHELOR
    employed_on = dt.date(2007, 9, 1)
    joined_school_on = dt.date(2015, 9, 1)
    employment_type = EmploymentType.ESTABLISHED
    status = Status.ACTIVE

    @factory.post_generation
    def posting(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            Posting.objects.create(
                teacher=obj, school=obj.school, kind=PostingKind.REGULAR, started_on=obj.joined_school_on
            )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")
