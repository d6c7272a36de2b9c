"""Words people use (issue 17 item 5): Chinese error pages (400, 403, 404, 405, 500), the API root and the
API docs' sections in Chinese, anonymous visitors of the API docs asked to log in, a teacher's enrolment
state in the teacher's terms."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponse
from django.test import override_settings
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as site_urls
from training import rules
from training.models import Enrolment, Project, Result


def _raises(exc):
    def view(request):
        raise exc
    return view


@require_POST
def _post_only(request):
    return HttpResponse("ok")


def _boom(request):
    raise RuntimeError("a defect")


urlpatterns = [
    path("t/400/", _raises(BadRequest("年度参数有误。"))),
    path("t/403/", _raises(PermissionDenied)),
    path("t/404/", _raises(Http404)),
    path("t/405/", _post_only),
    path("t/500/", _boom),
    path("api/t/405/", _post_only),
    *site_urls,  # the menu of a signed-in user's error page links the site's pages
]
handler400 = "bureau.views.bad_request"

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_ERRORS = ("Bad Request", "Forbidden", "Not Found", "Method Not Allowed", "Server Error")


def _is_chinese_page(response, heading):
    html = response.content.decode()
    assert "<h1>" + heading + "</h1>" in html, html[:500]
    assert '<html lang="zh-hans">' in html
    assert not any(english in html for english in ENGLISH_ERRORS)


@pytest.mark.parametrize("signed_in", [False, True])
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_error_pages_are_chinese(client, users, signed_in):
    if signed_in:
        client.force_login(users["teacher"])
    client.raise_request_exception = False
    for url, status, heading in [("/t/400/", 400, "请求有误"), ("/t/403/", 403, "无权访问"), ("/t/404/", 404, "页面不存在"),
                                 ("/t/405/", 405, "无法这样打开"), ("/t/500/", 500, "系统出错"),
                                 ("/no/such/page/", 404, "页面不存在")]:
        response = client.get(url)
        assert response.status_code == status, url
        _is_chinese_page(response, heading)
    assert "年度参数有误。" in client.get("/t/400/").content.decode()
    assert client.get("/t/405/")["Allow"] == "POST"
    assert client.post("/t/405/").status_code == 200


@override_settings(ROOT_URLCONF=__name__)
def test_the_api_keeps_its_own_405(client, users):
    response = client.get("/api/t/405/")
    assert response.status_code == 405 and "无法这样打开" not in response.content.decode()


def test_a_post_only_page_of_the_site_answers_a_get_in_chinese(client, users):
    client.force_login(users["teacher"])
    response = client.get(reverse("notice-read", args=[1]))
    assert response.status_code == 405
    _is_chinese_page(response, "无法这样打开")


def test_the_api_docs_ask_an_anonymous_visitor_to_log_in(client, users):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/api/docs/"
    login = client.get(response["Location"])
    assert login.status_code == 200 and "登录" in login.content.decode()
    client.force_login(users["bureau"])
    assert client.get("/api/docs/").status_code == 200


def test_the_api_root_and_its_pages_are_chinese(client, users):
    client.force_login(users["bureau"])
    root = client.get("/api/", HTTP_ACCEPT="text/html").content.decode()
    assert "教师发展平台 API" in root and "Api Root" not in root
    assert "教师发展平台的接口" in root
    projects = client.get("/api/projects/", HTTP_ACCEPT="text/html").content.decode()
    assert "培训项目列表" in projects and "Project List" not in projects


def test_the_api_docs_sections_are_chinese(client, users, settings):
    client.force_login(users["bureau"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    used = {tag for path in schema["paths"].values() for op in path.values() for tag in op.get("tags", [])}
    declared = {tag["name"] for tag in schema["tags"]}
    assert used and used <= declared
    assert all(CHINESE.search(tag) for tag in used)
    assert all(CHINESE.search(tag["description"]) for tag in schema["tags"])


@pytest.mark.parametrize("grade, shown", [(None, "已录取"), ("优秀", "已结业（优秀）"), ("合格", "已结业（合格）"),
                                          ("不合格", "考核不合格"), ("未完成", "未完成")])
def test_teacher_status_words(grade, shown):
    assert rules.teacher_status("已录取", grade) == shown


def test_a_teacher_whose_course_is_unfinished_never_reads_completed(client, users, city):
    teacher = city["teachers"][0]
    project = Project.objects.create(
        code="P1", name="新课标研修", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
        start_on=dt.date(2026, 5, 1), end_on=dt.date(2026, 5, 5), organiser="市教师发展中心", status="finished")
    enrolment = Enrolment.objects.create(project=project, teacher=teacher, state="completed", imported=True)
    Result.objects.create(enrolment=enrolment, grade="未完成")
    client.force_login(users["teacher"])
    html = client.get(reverse("training:projects")).content.decode()
    row = html[html.index('id="my-enrolments"'):]
    assert "未完成" in row and "已结业" not in row


def test_an_exchange_proposal_reads_in_the_teachers_terms():
    from exchange.models import Proposal, ProposalStatus

    assert Proposal(status=ProposalStatus.APPLIED).teacher_status() == "已申请，等待学校推荐"
    assert Proposal(status=ProposalStatus.PROPOSED).teacher_status() == "学校已推荐，等待教育局审批"
    assert all(Proposal(status=s).teacher_status() for s in ProposalStatus.values)


def test_a_form_from_an_expired_page_gets_a_chinese_403(users, db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users["teacher"])
    response = client.post(reverse("training:withdraw", args=[1]))
    assert response.status_code == 403
    _is_chinese_page(response, "页面已过期")
    assert "CSRF" not in response.content.decode()
