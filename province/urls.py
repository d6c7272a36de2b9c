from django.urls import path

from . import views

app_name = "province"
urlpatterns = [
    path("reports/province/", views.report_list, name="reports"),
    path("reports/province/start/", views.report_start, name="report-start"),
    path("reports/province/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/province/<int:pk>/progress.json", views.report_progress, name="report-progress"),
    path("reports/province/<int:pk>/download/", views.report_download, name="report-download"),
]
