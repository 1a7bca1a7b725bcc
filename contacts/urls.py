from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("intervenants/", views.intervenant_list, name="intervenant_list"),
    path("intervenants/nouveau/", views.intervenant_create, name="intervenant_create"),
    path("intervenants/<int:pk>/", views.intervenant_detail, name="intervenant_detail"),
    path("intervenants/<int:pk>/modifier/", views.intervenant_edit, name="intervenant_edit"),
    path("intervenants/<int:pk>/proposer/", views.intervenant_propose, name="intervenant_propose"),
    path(
        "intervenants/<int:intervenant_pk>/mandats/nouveau/",
        views.mandate_create,
        name="mandate_create",
    ),
    path("mandats/<int:pk>/modifier/", views.mandate_edit, name="mandate_edit"),
    path("mandats/<int:pk>/revoquer/", views.mandate_revoke, name="mandate_revoke"),
    path("clients/", views.client_list, name="client_list"),
    path("clients/nouveau/", views.client_create, name="client_create"),
    path("clients/<int:pk>/", views.client_detail, name="client_detail"),
    path("clients/<int:pk>/modifier/", views.client_edit, name="client_edit"),
    path("dossiers/", views.dossier_list, name="dossier_list"),
    path("dossiers/nouveau/", views.dossier_create, name="dossier_create"),
    path("dossiers/<int:pk>/", views.dossier_detail, name="dossier_detail"),
    path("dossiers/<int:pk>/modifier/", views.dossier_edit, name="dossier_edit"),
]
