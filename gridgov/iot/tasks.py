"""Huey jobs of the digital family, registered on the project's Huey when the app is
ready (``IotConfig.ready``), so ``gridgov worker`` runs them:

- ``iot_check``: every minute, ``alarm_check_run`` (silent devices, meters without use,
  unacknowledged alarms → urgent tasks);
- ``iot_purge``: daily at 19:10 UTC (03:10 in Shanghai), ``readings_purge`` (raw readings past the
  retention window; on PostgreSQL whole monthly partitions, and the coming months').
"""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(), name="iot_check")
def iot_check() -> dict[str, int]:
    from gridgov.iot.services import alarm_check_run

    return alarm_check_run()


@db_periodic_task(crontab(hour="19", minute="10"), name="iot_purge")
def iot_purge() -> dict[str, Any]:
    from gridgov.iot.services import readings_purge

    return readings_purge()
