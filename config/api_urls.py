from django.http import JsonResponse
from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from bureau.apidocs import ApiRoot
from credits.api import LedgerEntryViewSet, teacher_summary
from exchange.api import promotion_check_view
from training.api import EnrolmentViewSet, ProjectViewSet, ResultViewSet
from training.provider_api import ProviderRecordsView, XapiStatementsView

router = DefaultRouter()
router.APIRootView = ApiRoot  # Chinese title and description
router.register("projects", ProjectViewSet, basename="project")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("results", ResultViewSet, basename="result")
router.register("ledger", LedgerEntryViewSet, basename="ledger")


def not_found(request, rest: str):
    """Any other address under /api/ (e.g. /api/projects/1.5/, which no route matches) answers like the
    API's own 404, in JSON, not with the site's HTML page."""
    return JsonResponse({"detail": "接口地址不存在。"}, status=404, json_dumps_params={"ensure_ascii": False})


urlpatterns = [
    path("teachers/<str:staff_no>/summary/", teacher_summary, name="teacher-summary"),
    path("exchange/promotion-check/", promotion_check_view, name="promotion-check"),
    path("providers/records/", ProviderRecordsView.as_view(), name="provider-records"),
    path("providers/xapi/statements/", XapiStatementsView.as_view(), name="provider-xapi"),
    *router.urls,
    re_path(r"^(?P<rest>(?!schema/|docs/).*)$", not_found),
]
