from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "gridgov.areas"
    label = "areas"
    verbose_name = _("Areas")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from gridgov.areas.index import area_index_invalidate
        from gridgov.areas.models import Area

        # Cache invalidation only (no business logic): an ORM write in this process that
        # bypassed the services (a factory, the shell) still drops this process's index.
        post_save.connect(area_index_invalidate, sender=Area, dispatch_uid="areas_index_save")
        post_delete.connect(area_index_invalidate, sender=Area, dispatch_uid="areas_index_delete")
