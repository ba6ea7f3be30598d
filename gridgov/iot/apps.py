from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IotConfig(AppConfig):
    name = "gridgov.iot"
    label = "iot"
    verbose_name = _("Digital family (IoT)")

    def ready(self) -> None:
        # Register the periodic jobs (alarm check, retention) on the project's Huey.
        from gridgov.iot import tasks  # noqa: F401
