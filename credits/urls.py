from django.urls import path

from . import amendment_views, dashboards, district_views, exemption_views, short_views, views

app_name = "credits"
urlpatterns = [
    path("portal/", views.portal_home, name="portal"),
    path("portal/transcript/", views.transcript, name="transcript"),
    path("portal/transcript.xlsx", views.transcript_xlsx, name="transcript-xlsx"),
    path("portal/hours/", views.hours, name="hours"),
    path("school/hours/", views.school_hours, name="school-hours"),
    path("school/hours/<int:pk>/decide/", views.school_hours_decide, name="school-hours-decide"),
    path("school/", dashboards.school_dashboard, name="school-dashboard"),
    path("dashboard/", dashboards.city_dashboard, name="city-dashboard"),
    path("dashboard/district/<int:pk>/", dashboards.district_dashboard, name="district-dashboard"),
    path("dashboard/school/<int:pk>/", dashboards.staff_school_dashboard, name="staff-school-dashboard"),
    path("dashboard/teacher/<str:staff_no>/", dashboards.teacher_detail, name="teacher-detail"),
    path("dashboard/teacher/<str:staff_no>/transcript.xlsx", dashboards.teacher_transcript_xlsx, name="teacher-transcript-xlsx"),
    path("reports/", dashboards.report_list, name="reports"),
    path("reports/start/", dashboards.report_start, name="report-start"),
    path("reports/<int:pk>/", dashboards.report_detail, name="report-detail"),
    path("reports/<int:pk>/progress.json", dashboards.report_progress, name="report-progress"),
    path("reports/<int:pk>/download/", dashboards.report_download, name="report-download"),
    path("reports/compliance.xlsx", dashboards.compliance_xlsx, name="compliance-xlsx"),
    # cr9: 补报 after the annual close (CR-9 amended)
    path("reports/amendments/", amendment_views.amendments, name="amendments"),
    path("reports/amendments/<int:pk>/decide/", amendment_views.amendment_decide_view, name="amendment-decide"),
    path("reports/amendments/<int:year>.xlsx", amendment_views.amendment_report_xlsx, name="amendment-report"),
    path("reports/ledger.xlsx", dashboards.ledger_xlsx, name="ledger-xlsx"),
    # tr15roles: 免考核 requests and decisions; district staff's hours approvals
    path("school/exemptions/", exemption_views.school_exemptions, name="school-exemptions"),
    path("exemptions/", exemption_views.exemptions, name="exemptions"),
    path("exemptions/<int:pk>/decide/", exemption_views.exemption_decide_view, name="exemption-decide"),
    # cr16verdicts: who is short on what (CR-5, CR-6 amended)
    path("school/short/", short_views.school_short, name="school-short"),
    path("school/short.xlsx", short_views.school_short_xlsx, name="school-short-xlsx"),
    path("dashboard/short/", short_views.short_list, name="short-list"),
    path("dashboard/short.xlsx", short_views.short_xlsx, name="short-xlsx"),
    path("district/hours/", district_views.district_hours, name="district-hours"),
    path("district/hours/<int:pk>/decide/", district_views.district_hours_decide, name="district-hours-decide"),
]
