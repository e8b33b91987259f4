"""`python -m worker.dev`: web, relay, consumer and periodic jobs in one process, for `make run`.

The embedded default (SQLite + filesystem://) needs no server. The web app is served by
Werkzeug's threaded server without the reloader (its fork would start a second worker);
`/metrics` then shows the worker's timings too. Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from types import FrameType

from worker import logs


def main(argv: list[str] | None = None) -> int:
    """Serve the web app and run the worker beside it until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m worker.dev", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure()
    from coalition import create_app
    from worker.handlers import HANDLERS
    from worker.runner import Worker

    app = create_app()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    with Worker(app, HANDLERS), contextlib.suppress(KeyboardInterrupt):
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
