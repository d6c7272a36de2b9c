from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("exchange/", views.overview, name="overview"),
    path("exchange/open/", views.open_plan, name="open"),
    path("exchange/place/", views.place, name="place"),
    path("exchange/proposals/<int:pk>/decide/", views.decide, name="decide"),
    path("exchange/propose/", views.propose, name="propose"),
    path("exchange/school/", views.school, name="school"),
    path("exchange/me/", views.me, name="me"),
    path("exchange/workbook.xlsx", views.workbook, name="workbook"),
]
