from django.urls import path

from . import views

app_name = "province"
urlpatterns = [
    path("reports/province/", views.report_list, name="reports"),
    path("reports/province/start/", views.report_start, name="report-start"),
    # progress, download and the list of all files: the 导出文件 pages (bureau.export_views)
]
