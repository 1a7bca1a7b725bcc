from django.urls import path

from ged import views

app_name = "ged"

urlpatterns = [
    path("ajouter/", views.upload, name="upload"),
    path("pour/<int:owner_type_id>/<int:owner_id>/", views.owner_documents, name="owner"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/apercu/", views.preview, name="preview"),
    path("<int:pk>/telecharger/", views.download, name="download"),
]
