"""The outcome report's task-runner work (Huey; settings.HUEY, started by `ketaclinic serve` and `make run`).

Every minute the extract's file in the data folder (extract.py, snapshot.py) is brought up to date, so a
server process's first report after a start reads the file instead of every score. The run reads only what
changed (new scores by id; plans at half the report's interval) and writes nothing when nothing did. A
lock keeps two runs apart.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from ketaclinic.outcomes import extract

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
@lock_task("outcomes.refresh_extract_file")
def refresh_extract_file() -> None:
    read = extract.refresh_file()
    if read:
        log.info("outcome extract file rewritten (%s read)", read)  # counts and kinds only, no PHI
