from django.urls import path

from correspondence import views

app_name = "correspondence"

urlpatterns = [
    path("", views.work_list, name="work_list"),
    path("enregistrer/", views.item_register, name="register"),
    path("alertes/", views.alert_list, name="alerts"),
    path("<int:pk>/", views.item_detail, name="item"),
    path("<int:pk>/repondre/", views.item_reply, name="reply"),
    path("<int:pk>/evenement/", views.item_event, name="event"),
    path("<int:pk>/attribuer/", views.item_assign, name="assign"),
    path("<int:pk>/traiter/", views.item_start, name="start"),
    path("<int:pk>/cloturer/", views.item_close, name="close"),
    # An imported dossier keeps its own reference, which may hold a slash ("2019/0042").
    path("dossier/<path:reference>/", views.dossier_timeline, name="dossier_timeline"),
]
