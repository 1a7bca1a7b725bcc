from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from gerance import views

urlpatterns = [
    path("", include("accounts.urls")),
    path("connexion/", auth_views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("courrier/", include("correspondence.urls")),
    path("documents/", include("ged.urls", namespace="ged")),
    path("contacts/", include("contacts.urls")),
    path("travaux/", include("redmine_bridge.urls")),
    path("emails/", include("email_channel.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = _("Property management — administration")
admin.site.site_title = _("Property management administration")
