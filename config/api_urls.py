from django.urls import path
from rest_framework.routers import DefaultRouter

from credits.api import LedgerEntryViewSet, teacher_summary
from exchange.api import promotion_check_view
from training.api import EnrolmentViewSet, ProjectViewSet, ResultViewSet

router = DefaultRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("results", ResultViewSet, basename="result")
router.register("ledger", LedgerEntryViewSet, basename="ledger")

urlpatterns = [
    path("teachers/<str:staff_no>/summary/", teacher_summary, name="teacher-summary"),
    path("exchange/promotion-check/", promotion_check_view, name="promotion-check"),
    *router.urls,
]
