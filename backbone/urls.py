from django.urls import path

from . import roster_views, views

app_name = "backbone"
urlpatterns = [
    path("backbone/", views.rounds, name="rounds"),
    path("backbone/rounds/<int:pk>/apply/", views.apply, name="apply"),
    path("backbone/school/", views.school, name="school"),
    path("backbone/applications/<int:pk>/recommend/", views.recommend, name="recommend"),
    path("backbone/notice/<int:pk>/", views.notice, name="notice"),
    path("backbone/plan/", views.plan, name="plan"),
]
urlpatterns += [path("backbone/roster/", roster_views.roster, name="roster")]
