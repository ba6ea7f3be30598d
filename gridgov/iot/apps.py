from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IotConfig(AppConfig):
    name = "gridgov.iot"
    label = "iot"
    verbose_name = _("Digital family (IoT)")
