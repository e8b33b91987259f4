"""`python -m worker [consume|relay|schedule]`: all three parts by default, or one of them."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from coalition.config import settings_of
from worker import logs

log = logging.getLogger("worker")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__)
    parser.add_argument(
        "part",
        nargs="?",
        choices=["consume", "relay", "schedule"],
        help="run only this part (default: all three)",
    )
    parser.add_argument("--groups", help="consume only these handler groups (comma-separated)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the worker and run until SIGTERM or SIGINT; finish the message in hand first."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure()
    from coalition import create_app
    from worker.handlers import HANDLERS
    from worker.runner import PARTS, Worker

    app = create_app()
    groups = args.groups.split(",") if args.groups else None
    unknown = set(groups or ()) - set(HANDLERS)
    if unknown:
        log.error("unknown handler group", extra={"groups": sorted(unknown)})
        return 2
    worker = Worker(app, HANDLERS, [args.part] if args.part else PARTS, groups=groups)
    serve_metrics(settings_of(app.config).worker_metrics_port)
    install_stop_signals(worker.request_stop)
    worker.start()
    while not worker.stop.wait(1.0):
        pass
    return 0 if worker.join(60) else 1


def serve_metrics(port: int) -> None:
    """Expose this process's metrics over HTTP when WORKER_METRICS_PORT is set."""
    if port:
        from prometheus_client import start_http_server

        start_http_server(port)
        log.info("metrics served", extra={"port": port})


def install_stop_signals(stop: object) -> None:
    """SIGTERM and SIGINT ask the worker to stop gracefully."""

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        stop()  # type: ignore[operator]

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


if __name__ == "__main__":
    raise SystemExit(main())
