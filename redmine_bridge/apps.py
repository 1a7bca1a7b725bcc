from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RedmineBridgeConfig(AppConfig):
    name = "redmine_bridge"
    verbose_name = _("Redmine")
