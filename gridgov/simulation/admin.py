from django.contrib import admin

from gridgov.simulation.models import SimulatedDay


@admin.register(SimulatedDay)
class SimulatedDayAdmin(admin.ModelAdmin):
    list_display = ("day", "seed", "area_code", "simulated_at")
    readonly_fields = ("day", "seed", "area_code", "counts", "simulated_at")
