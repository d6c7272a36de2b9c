from django.contrib.auth import views as auth_views
from django.core.exceptions import BadRequest
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from . import sso
from .scoping import role_of


def home(request):
    """Landing page: staff go to the admin; everyone else sees what is there for their role."""
    if not request.user.is_authenticated:
        return redirect("login")
    role = role_of(request.user)
    if role == "teacher":
        return redirect("credits:portal")
    if role == "principal":
        return redirect("credits:school-dashboard")
    if role in ("bureau", "district", "auditor"):
        return redirect("credits:city-dashboard")
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "bureau/home.html", {"role": role_of(request.user)})


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def bad_request(request, exception):
    """400 with the reason: a BadRequest raised by a page carries a Chinese message (bureau.params)."""
    message = str(exception) if isinstance(exception, BadRequest) and str(exception) else "请求参数有误，请检查后重试。"
    return render(request, "400.html", {"message": message}, status=400)


def csrf_failure(request, reason=""):
    """A form sent from an expired or foreign page (CSRF_FAILURE_VIEW): Django's page is English."""
    return render(request, "403.html", {
        "title": "页面已过期",
        "message": "该页面已过期或来源无法确认，操作没有执行。请返回上一页，刷新后重新提交。",
    }, status=403)


def rate_limited(request, exception):
    """django-ratelimit's answer: 429 with a Chinese message."""
    return HttpResponse("请求过于频繁，请稍后再试。", status=429, content_type="text/plain; charset=utf-8")


class LogoutView(auth_views.LogoutView):
    """退出: GET asks for confirmation, POST signs out. The menu links here instead of carrying a form,
    so ordinary pages hold no CSRF token and a signed-in user's page can be cached (bureau.pages)."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect("login")
        return render(request, "registration/logout_confirm.html")

    def post(self, request, *args, **kwargs):
        """Signs out; a session signed in through the identity provider is ended there too (bureau.sso)."""
        view = sso.provider_logout_view(request)
        if view is not None:
            return view(request)
        return super().post(request, *args, **kwargs)
