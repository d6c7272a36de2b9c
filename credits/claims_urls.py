"""URLs of external recognition (学时认定); included from bureau/urls.py."""

from django.urls import path

from . import claims_views

app_name = "claims"
urlpatterns = [
    path("portal/claims/", claims_views.my_claims, name="mine"),
    path("portal/claims/<int:pk>/resubmit/", claims_views.resubmit, name="resubmit"),
    path("school/claims/", claims_views.school_claims, name="school"),
    path("claims/review/", claims_views.review, name="review"),
    path("claims/turnaround/", claims_views.turnaround, name="turnaround"),
    path("claims/<int:pk>/act/", claims_views.act, name="act"),
    path("claims/evidence/<int:pk>/", claims_views.evidence_download, name="evidence"),
]
