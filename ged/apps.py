from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GedConfig(AppConfig):
    name = "ged"
    verbose_name = _("Document management (GED)")
