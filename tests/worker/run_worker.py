"""A worker process for the fault tests: `python -m tests.worker.run_worker MODE PARTS`.

Its handler leaves one effects row per event. MODE picks the worst moment to be killed at:
`block-before-commit` stops inside the handler (effect written, not committed),
`block-after-commit` stops after the commit and before the ack; `slow` takes 20 ms per
event; `hold` waits inside the handler until a `release` file appears; `normal` just
records. FAULT_MARKERS names a folder where it says where it stopped.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from coalition.events.envelope import Event
from tests.worker.support import effects


def block_forever(marker: Path) -> None:
    """Say where we are, then wait for SIGKILL."""
    marker.touch()
    while True:
        time.sleep(1)


def make_handler(mode: str, markers: Path) -> Any:
    """The effects handler for a mode."""

    def handle(session: Session, event: Event) -> None:
        session.execute(effects.insert().values(event_id=event.id, grp="effects"))
        if mode == "slow":
            time.sleep(0.02)
        elif mode == "block-before-commit":
            session.flush()
            block_forever(markers / "before-commit")
        elif mode == "block-after-commit":
            session.info["block_after_commit"] = True
        elif mode == "hold":
            (markers / "holding").touch()
            while not (markers / "release").exists():
                time.sleep(0.02)

    @sa_event.listens_for(Session, "after_commit")
    def after_commit(session: Session) -> None:
        if session.info.pop("block_after_commit", False):
            block_forever(markers / "after-commit")

    return handle


def main() -> int:
    """Run the chosen parts until SIGTERM."""
    mode, parts = sys.argv[1], sys.argv[2].split(",")
    markers = Path(os.environ["FAULT_MARKERS"])
    from coalition import create_app
    from worker import logs
    from worker.__main__ import install_stop_signals
    from worker.jobs import JOBS
    from worker.runner import Worker

    logs.configure()
    app = create_app()
    table = {"effects": {"offer.posted": [make_handler(mode, markers)]}}
    sweep = tuple(job for job in JOBS if job.name == "outbox-sweep")
    worker = Worker(app, table, parts, jobs=sweep)
    install_stop_signals(worker.request_stop)
    worker.start()
    (markers / f"ready-{os.getpid()}").touch()
    while not worker.stop.wait(0.5):
        pass
    return 0 if worker.join(30) else 1


if __name__ == "__main__":
    raise SystemExit(main())
