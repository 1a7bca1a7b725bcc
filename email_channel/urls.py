from django.urls import path

from email_channel import views

app_name = "mailbox"

urlpatterns = [
    path("a-trier/", views.triage_list, name="triage_list"),
    path("quarantaine/", views.quarantine_list, name="quarantine_list"),
    path("<int:pk>/", views.message_detail, name="message"),
    path("<int:pk>/enregistrer/", views.message_register, name="register"),
    # A reply threaded on an item that asks for something new becomes an item of its own.
    path("<int:pk>/separer/", views.message_register, name="split"),
    path("<int:pk>/rattacher/", views.message_attach, name="attach"),
    path("<int:pk>/ecarter/", views.message_dismiss, name="dismiss"),
    path("<int:pk>/lu/", views.message_acknowledge, name="acknowledge"),
    path("<int:pk>/brut/", views.message_raw, name="raw"),
]
