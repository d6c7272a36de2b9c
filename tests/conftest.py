import pytest
from django.core.cache import cache

from bureau.choices import Role
from bureau.services import user_assign_role
from tests.factories import DistrictFactory, SchoolFactory, TeacherFactory, UserFactory


@pytest.fixture(autouse=True)
def empty_cache():
    """The database is rolled back after each test; the cache (policies, rate limits) must be too."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(params=["locmem", "redis"])
def both_caches(request, settings):
    """Run a test on the in-process cache and again on a real Redis through django-redis (production)."""
    if request.param == "redis":
        from tests.redis_cache import redis_cache_settings

        settings.CACHES = redis_cache_settings()
    cache.clear()
    yield request.param
    cache.clear()


@pytest.fixture
def city(db):
    """Two districts, two schools in the first and one in the second, a teacher in each school."""
    d1, d2 = DistrictFactory(code="D1", name="城东区"), DistrictFactory(code="D2", name="城西区")
    s1 = SchoolFactory(code="S1", name="东一小学", district=d1)
    s2 = SchoolFactory(code="S2", name="东二小学", district=d1)
    s3 = SchoolFactory(code="S3", name="西一小学", district=d2)
    t1 = TeacherFactory(staff_no="T1", name="张一", school=s1)
    t2 = TeacherFactory(staff_no="T2", name="李二", school=s2)
    t3 = TeacherFactory(staff_no="T3", name="王三", school=s3)
    return {"districts": [d1, d2], "schools": [s1, s2, s3], "teachers": [t1, t2, t3]}


@pytest.fixture
def users(city):
    """One user per role, scoped to the first district / first school / first teacher."""
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    made = {"superuser": admin}
    d1 = city["districts"][0]
    s1 = city["schools"][0]
    t1 = city["teachers"][0]
    for role, kwargs in [
        (Role.BUREAU, {}),
        (Role.DISTRICT, {"district": d1}),
        (Role.PRINCIPAL, {"school": s1}),
        (Role.TEACHER, {"teacher": t1}),
        (Role.AUDITOR, {}),
    ]:
        user = UserFactory(username=str(role))
        user_assign_role(user=user, role=role, actor=admin, **kwargs)
        made[str(role)] = user
    return made
