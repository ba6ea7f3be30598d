"""Vocabularies shared by people, the catalogue's target selectors and later the tasks."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    COMMAND_CENTRE = "command_centre", _("Command centre")
    COMMUNITY_ADMIN = "community_admin", _("Community admin")
    GRID_LEADER = "grid_leader", _("Grid leader")
    GRID_WORKER = "grid_worker", _("Grid worker")
    PARTY_MEMBER = "party_member", _("In-service party member")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")


class ResidentTag(models.TextChoices):
    """Tags on residents; a household "has" a tag when one of its residents has it.

    Sources for the groups: CATALOGUE-FACTS §1–§2 (Liyang bulletin, Inner Mongolia elderly
    tiers, national basic public-health service spec, 安置帮教 and 社区戒毒 rules).
    """

    ELDERLY = "elderly", _("Elderly (60+)")
    ELDERLY_HIGH_RISK = "elderly_high_risk", _("Elderly, high-risk tier")
    ELDERLY_KEY = "elderly_key", _("Elderly, key tier")
    ELDERLY_RED = "elderly_red", _("Elderly, red tier (daily call)")
    LIVING_ALONE = "living_alone", _("Elderly living alone")
    EMPTY_NEST = "empty_nest", _("Empty-nest elderly")
    DISABLED = "disabled", pgettext_lazy("resident tag", "Disabled")
    MENTAL_DISORDER_STABLE = "mental_disorder_stable", _("Severe mental disorder, stable")
    MENTAL_DISORDER_UNSTABLE = "mental_disorder_unstable", _("Severe mental disorder, unstable")
    COMMUNITY_CORRECTION = "community_correction", _("Under community correction")
    RELEASED_PRISONER = "released_prisoner", _("Released prisoner")
    RELEASED_PRISONER_KEY = "released_prisoner_key", _("Released prisoner, key")
    DRUG_REHAB_Y1 = "drug_rehab_y1", _("Community drug rehabilitation, year 1")
    DRUG_REHAB_Y2 = "drug_rehab_y2", _("Community drug rehabilitation, year 2")
    DRUG_REHAB_Y3 = "drug_rehab_y3", _("Community drug rehabilitation, year 3")
    KEY_YOUTH = "key_youth", _("Key youth")
    PETITIONER = "petitioner", _("Repeat petitioner")
    LEFT_BEHIND_CHILD = "left_behind_child", _("Left-behind or distressed child")
    LOW_INCOME = "low_income", _("Low-income (dibao / tekun)")
    VETERAN = "veteran", _("Veteran")
    SPECIAL_FAMILY = "special_family", _("Family-planning special family")
    FLOATING = "floating", _("Floating population")
    KEY_GROUP = "key_group", _("Key group")


class PlaceKind(models.TextChoices):
    BUILDING = "building", _("Residential building")
    SHOP = "shop", _("Shop")
    RENTAL_HOUSING = "rental_housing", _("Rental housing")
    GROUP_RENTAL = "group_rental", _("Group rental (qunzufang)")
    SMALL_VENUE = "small_venue", _("Small venue (sanxiao changsuo)")
    RESTAURANT = "restaurant", _("Restaurant")
    KEY_PLACE = "key_place", _("Key place")
    GARBAGE_STATION = "garbage_station", _("Garbage-sorting station")
    SHELTER = "shelter", _("Disaster shelter")
    HAZARDOUS_BUILDING = "hazardous_building", _("Hazardous building")
    MARKET = "market", _("Market")
    CONSTRUCTION_SITE = "construction_site", _("Construction site")


class Sex(models.TextChoices):
    """Sex as recorded on the resident identity card (GB/T 2261.1: 1 male, 2 female)."""

    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class PersonalDataSubject(models.TextChoices):
    """Kinds of record that carry personal data (see ``gridgov.people.masking``)."""

    RESIDENT = "resident", _("Resident")
    HOUSEHOLD = "household", _("Household")
    PLACE = "place", _("Place")
