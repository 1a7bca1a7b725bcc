from django.urls import path

from redmine_bridge import views

app_name = "redmine_bridge"

urlpatterns = [
    path("", views.work_request_list, name="work_request_list"),
    path("nouvelle/", views.work_request_create, name="work_request_create"),
    path("relancer/", views.retry_all, name="retry_all"),
    path("<int:pk>/", views.work_request_detail, name="work_request_detail"),
    path("<int:pk>/relancer/", views.work_request_retry, name="work_request_retry"),
    path("<int:pk>/notes/", views.note_add, name="note_add"),
    path("<int:pk>/artisan/", views.work_request_reassign, name="work_request_reassign"),
    path(
        "comptes-artisans/<int:pk>/relancer/",
        views.artisan_account_retry,
        name="artisan_account_retry",
    ),
]
