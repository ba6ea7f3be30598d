"""A membership of a retired area grants nothing (the redrawn grid's people move)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django.utils import timezone

from gridgov.areas.services import area_retire
from gridgov.people import selectors


def test_a_membership_of_a_retired_grid_stops_granting_access(world: Any) -> None:
    worker = world.users["grid_worker"]
    grid = world.tree["g11"]
    assert selectors.area_codes_visible_to(worker) == [grid.code]
    assert selectors.household_list_visible_to(worker).filter(area=world.tree["m11"]).exists()

    on = timezone.localdate() + dt.timedelta(days=1)
    area_retire(area=grid, on=on)
    selectors.clear_membership_cache(worker)
    # Still in force today: nothing changes yet.
    assert selectors.area_codes_visible_to(worker) == [grid.code]

    with time_machine.travel(dt.datetime.combine(on, dt.time(9), tzinfo=dt.UTC), tick=False):
        selectors.clear_membership_cache(worker)
        assert selectors.area_codes_visible_to(worker) == []
        assert not selectors.household_list_visible_to(worker).exists()
        # The command centre, placed on the street, still reads the retired grid's records.
        centre = world.users["command_centre"]
        selectors.clear_membership_cache(centre)
        assert selectors.household_list_visible_to(centre).filter(area=world.tree["m11"]).exists()
