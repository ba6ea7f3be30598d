"""The pages of the command centre, community admins and grid leaders (``/manage/``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gridgov.web import views_manage as views

app_name = "manage"

urlpatterns: list[URLPattern | URLResolver] = [
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/export.xlsx", views.task_export_xlsx_view, name="tasks-xlsx"),
    path("tasks/export.csv", views.task_export_csv_view, name="tasks-csv"),
    path("tasks/<str:number>/", views.task_manage, name="task"),
    path("tasks/<str:number>/<slug:action>/", views.task_action, name="task-action"),
    path("verify/", views.verify_queue, name="verify"),
    path("directives/", views.directive_list, name="directives"),
    path("directives/new/", views.directive_issue_view, name="directive-new"),
    path("directives/<int:pk>/", views.directive_detail, name="directive"),
    path(
        "directives/<int:pk>/export.xlsx",
        views.directive_export,
        {"ext": "xlsx"},
        name="directive-xlsx",
    ),
    path(
        "directives/<int:pk>/export.csv",
        views.directive_export,
        {"ext": "csv"},
        name="directive-csv",
    ),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_issue_view, name="campaign-new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path(
        "campaigns/<int:pk>/export.xlsx",
        views.campaign_export,
        {"ext": "xlsx"},
        name="campaign-xlsx",
    ),
    path(
        "campaigns/<int:pk>/export.csv", views.campaign_export, {"ext": "csv"}, name="campaign-csv"
    ),
]
