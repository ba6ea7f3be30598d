from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from gridgov.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="web:login"), name="logout"),
    path("tasks/<str:number>/", views.task_detail, name="task"),
    path("tasks/<str:number>/accept/", views.task_accept_view, name="task-accept"),
    path("tasks/<str:number>/send-back/", views.task_send_back_view, name="task-send-back"),
    path("tasks/<str:number>/extension/", views.task_extension_view, name="task-extension"),
    path("tasks/<str:number>/feedback/", views.task_feedback, name="task-feedback"),
    path("tasks/<str:number>/phones/", views.task_phones_view, name="task-phones"),
    path("tasks/<str:number>/photos/<int:pk>/", views.task_photo, name="task-photo"),
    path("report/", views.report, name="report"),
    path("inbox/", views.inbox, name="inbox"),
]
