"""The schedule: the nightly flow as a deployment with a cron (02:00 Asia/Shanghai by default),
registered on the Prefect server at PREFECT_API_URL and served by this process.

`flow.to_deployment` + `prefect.serve` need no work pool, no worker and no Docker: the serving
process polls the server for due runs (scheduled or triggered by hand in the UI or with
`prefect deployment run 'gknb-nightly/gknb-nightly'`) and runs each in a subprocess.
"""

from __future__ import annotations

from typing import Any

from gknb.errors import ConfigError


class ScheduleError(ConfigError):
    """A cron expression or time zone the schedule cannot use."""


def validate_schedule(cron: str, timezone: str) -> None:
    """One line for a bad schedule, before anything is registered: the time zone must be an IANA
    name zoneinfo knows, the cron five fields Prefect's cron parser (croniter) accepts."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"--timezone {timezone!r}: not a time zone name (IANA, e.g. Asia/Shanghai)") from None
    from prefect._vendor.croniter import croniter  # the parser prefect.schedules.Cron validates with

    fields = cron.split()
    if len(fields) != 5 or not croniter.is_valid(cron):
        raise ScheduleError(f"--cron {cron!r}: not a valid cron expression (minute hour day month weekday, e.g. '0 2 * * *')")

DEPLOYMENT_NAME = "gknb-nightly"
FLOW_NAME = "gknb-nightly"


def nightly_deployment(cron: str = "0 2 * * *", timezone: str = "Asia/Shanghai", name: str = DEPLOYMENT_NAME,
                       parameters: dict[str, Any] | None = None):
    """The RunnerDeployment of the nightly flow with its cron schedule (not yet registered)."""
    from prefect.schedules import Cron

    from gknb.flows.nightly import nightly

    validate_schedule(cron, timezone)

    params = {k: v for k, v in (parameters or {}).items() if v not in (None, [], "")}
    return nightly.to_deployment(
        name=name,
        schedules=[Cron(cron, timezone=timezone)],
        parameters=params,
        tags=["gknb", "nightly"],
        description="Crawl the report columns, load what is new, check it, publish dashboard and snapshot.",
        concurrency_limit=1,  # a night's run still going when the next is due: the next one waits
    )


def serve_nightly(cron: str = "0 2 * * *", timezone: str = "Asia/Shanghai", name: str = DEPLOYMENT_NAME,
                  parameters: dict[str, Any] | None = None) -> None:
    """Registers the deployment and serves it until interrupted."""
    from prefect import serve

    serve(nightly_deployment(cron, timezone, name, parameters))
