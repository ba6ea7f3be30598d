"""The simulator's assumptions: event rates, handling times, working hours, probabilities.

Every number here is a default a street should check against its own history (``gridgov
stats`` after a month of real use). Sources are in ``/work/shared/CATALOGUE-FACTS.md``
(cited as CF §n) and SCENARIOS.md; "design" marks a number with no published basis.

Event rates are **expected events per grid per day** (a Poisson mean), by the event-driven
task rule whose type the report gets. They are calibrated so that:

- grid workers' own reports come to about 0.45 per grid per day, i.e. about 13 a month
  per grid — CF §2.1: "at least 10 reported events per grid worker per month" [T], and
  the Zhejiang average of 12.1 million grid items from about 85,000 grids in 2022 (CF §0)
  is 0.39 items per grid per day, all sources together;
- safety hazards are about a fifth of the reports and disputes about 4% — the Liyang
  monthly bulletin (CF §1.1, §3 [O]): safety-hazard events 18.5%, disputes 4.4%;
- residents' reports (12345 hotline work orders, the resident page) add about a third of
  that again (design: an urban street; no published per-grid rate was found).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Grid workers' reports (source ``worker_report``): rule code → events per grid per day.
WORKER_REPORT_RATES: dict[str, float] = {
    "030501": 0.05,  # corridor clutter, blocked fire lanes (safety)
    "030402": 0.03,  # e-bike parking and charging hazards (safety)
    "031301": 0.02,  # damaged public facilities, urgent (safety; municipal department)
    "040201": 0.02,  # neighbour dispute (dispute)
    "050201": 0.10,  # exposed garbage, neglected corners
    "050401": 0.07,  # street vending, shopfront responsibility
    "050501": 0.06,  # stray posters and graffiti
    "031201": 0.02,  # construction waste, site dust (law enforcement)
    "050301": 0.01,  # illegal construction (law enforcement)
    "010201": 0.04,  # resident registration and changes
    "010301": 0.02,  # rental housing registration
}
#: Residents' reports (source ``resident_report``): rule code → events per grid per day.
RESIDENT_REPORT_RATES: dict[str, float] = {
    "060601": 0.05,  # repair and service requests
    "050901": 0.03,  # environmental complaints: noise, fumes, sewage (law enforcement)
    "031302": 0.02,  # damaged public facilities, non-urgent (municipal)
    "050201": 0.02,  # exposed garbage
    "040201": 0.01,  # neighbour dispute
    "060401": 0.01,  # errands for elderly residents
    "030501": 0.01,  # corridor clutter
}
#: Grid workers report less at weekends and on holidays (a duty rota; design).
REST_DAY_WORKER_REPORT_FACTOR = 0.4

#: Median handling time in minutes by category code (the first two digits of the type),
#: the time from starting a task to submitting its feedback. Drawn log-normally with
#: ``HANDLING_SIGMA``, clipped to ``HANDLING_BOUNDS``. Design, after SCENARIOS.md (a home
#: visit with questions and a photo: about half an hour) and CF §2.1 (a daily patrol of
#: at least one hour).
HANDLING_MEDIAN_MIN: dict[str, float] = {
    "01": 25,  # basic information collection
    "02": 30,  # visits to key groups
    "03": 40,  # safety hazards (the daily patrol: see below)
    "04": 60,  # disputes and hotline
    "05": 25,  # city management and market supervision
    "06": 45,  # party building and services
}
#: Task types with their own median (minutes): the daily patrol is at least an hour (CF §2.1).
HANDLING_MEDIAN_BY_TYPE_MIN: dict[str, float] = {"0301": 70}
HANDLING_DEFAULT_MIN = 30.0
HANDLING_SIGMA = 0.6
HANDLING_BOUNDS_MIN = (5.0, 240.0)

#: Tasks a holder (grid worker, grid leader, department handler) finishes on a working
#: day at most (``--capacity``). Design: 7.5 working hours at about 35–45 minutes a task
#: with the walking in between.
DEFAULT_CAPACITY = 10
#: On rest days everybody works a morning duty at this share of the capacity (design).
REST_DAY_CAPACITY_SHARE = 0.3
#: A holder leaves a task for a later round with this probability (other work, waiting
#: for the resident, forgetting): the simulator's source of missed deadlines besides load.
DEFER_PROBABILITY = 0.06
#: A verification fails (rework, 返工) with this probability. SCENARIOS.md's verifier
#: sends back 2 of 23 (8.7%) and the command centre's week shows a 2.1% rework rate; 4%
#: lies between (design).
REWORK_PROBABILITY = 0.04
#: A holder asks for more time (延期申请) for a task left undone that falls due within a
#: day with this probability, once per task, never for urgent-hour limits; the dispatcher
#: approves with ``EXTENSION_APPROVE_PROBABILITY``; the new deadline is ``EXTENSION_DAYS``
#: days later. CF §2.5 (Zhoushan 12345): an extension is asked before the deadline and is at
#: most 20 days; the shares are design.
EXTENSION_REQUEST_PROBABILITY = 0.3
EXTENSION_APPROVE_PROBABILITY = 0.8
EXTENSION_DAYS = 2
NO_EXTENSION_UNITS = frozenset({"urgent_hour"})
#: A dispatcher refuses a report as not a case (不予立案: a duplicate, outside the grid's
#: duties) with this probability (design).
REJECT_PROBABILITY = 0.03

#: Working hours of the simulated staff, local time: (start, end) of each work round.
WORK_ROUNDS: tuple[tuple[dt.time, dt.time], ...] = (
    (dt.time(8, 30), dt.time(12, 0)),
    (dt.time(13, 30), dt.time(17, 30)),
)
#: The rest-day duty round.
REST_DAY_WORK_ROUNDS: tuple[tuple[dt.time, dt.time], ...] = ((dt.time(9, 0), dt.time(12, 0)),)
#: The evening duty, every day: tasks dispatched for the evening (the garbage-sorting
#: stations' 18:00–20:00 peak, CF §2.6) are handled then, up to ``EVENING_CAPACITY`` each.
EVENING_ROUND = (dt.time(18, 0), dt.time(20, 45))
EVENING_CAPACITY = 2
#: When dispatchers register and dispatch the reports that came in (working days / rest days).
DISPATCH_TIMES = (
    dt.time(8, 45),
    dt.time(10, 30),
    dt.time(13, 45),
    dt.time(15, 30),
    dt.time(17, 15),
)
REST_DAY_DISPATCH_TIMES = (dt.time(10, 0), dt.time(16, 0))
#: When verifiers go through the verification queue. "Closed on time" counts the closing
#: (the verification), not the feedback, so the queue is gone through often, and once
#: after the evening duty (the command centre's night shift).
VERIFY_TIMES = (
    dt.time(9, 30), dt.time(11, 15), dt.time(14, 30), dt.time(16, 45), dt.time(17, 50),
    dt.time(20, 50),
)  # fmt: skip
REST_DAY_VERIFY_TIMES = (dt.time(11, 30), dt.time(17, 0), dt.time(20, 50))
#: When the routine generation runs (the worker's daily job runs in the early morning).
GENERATE_TIME = dt.time(0, 30)
#: When the SLA sweep runs. The real worker sweeps every minute; a few sweeps a day give
#: the same flags and escalations, a little later (an hour or two at most).
SWEEP_TIMES = (
    dt.time(1, 0), dt.time(8, 0), dt.time(10, 0), dt.time(12, 0), dt.time(14, 0),
    dt.time(16, 0), dt.time(18, 0), dt.time(21, 0), dt.time(23, 55),
)  # fmt: skip
#: Hours in which reports arrive: grid workers while on duty, residents all day.
WORKER_REPORT_HOURS = (dt.time(8, 30), dt.time(17, 30))
RESIDENT_REPORT_HOURS = (dt.time(7, 0), dt.time(22, 0))


@dataclass(frozen=True)
class Knobs:
    """The "what if" knobs of a run.

    ``workers_factor`` (0–1]: the share of grid workers at work; the others are away for
    the whole run and the dispatchers transfer their tasks to a colleague of the same grid
    when there is one. ``capacity``: tasks a holder finishes per working day.
    ``event_rate_factor`` (> 0): multiplies every event rate.
    """

    workers_factor: float = 1.0
    capacity: int = DEFAULT_CAPACITY
    event_rate_factor: float = 1.0
