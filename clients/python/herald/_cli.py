"""``python -m herald``: run states and alerts from shell and cluster scripts (e.g. a Slurm epilog).

The URL and key come from HERALD_URL and HERALD_API_KEY (the key is never a flag, so it stays
out of ``ps`` listings and shell history). Exit status: 0 sent (or HERALD_DISABLED=1), 1 not
sent (Herald unreachable within --timeout, or the event was refused), 2 bad usage.
"""

import argparse
import logging
import sys
from typing import List, Optional

from . import _limits as L
from ._client import Client
from ._version import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m herald", description="Report run states and alerts to Herald (HERALD_URL, HERALD_API_KEY).")
    parser.add_argument("--version", action="version", version=f"herald-client {__version__}")
    parser.add_argument("--url", help="Herald's base URL (default: HERALD_URL)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to keep trying while Herald does not answer (default 30)")
    commands = parser.add_subparsers(dest="command", required=True)

    state = commands.add_parser("run-state", help="report a run's state (RUNNING, FINISHED, FAILED, CRASHED, KILLED)")
    state.add_argument("--project", required=True)
    state.add_argument("--run-id", required=True)
    state.add_argument("--name", help="the run's name (default: the run id)")
    state.add_argument("--state", required=True, type=str.upper, choices=L.RUN_STATES)
    state.add_argument("--run-url", help="a link to the run")
    state.add_argument("--author")
    state.add_argument("--event-id", help="idempotency key: the same id posted twice is stored once")

    alert = commands.add_parser("alert", help="raise an ALERT (optionally for a run)")
    alert.add_argument("--project", required=True)
    alert.add_argument("--title", required=True)
    alert.add_argument("--text")
    alert.add_argument("--level", default="WARN", type=str.upper, choices=L.ALERT_LEVELS)
    alert.add_argument("--run-id")
    alert.add_argument("--name", help="the run's name (default: the run id)")
    alert.add_argument("--author")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    client = Client(url=args.url, batch_size=L.MAX_BATCH, max_retry_delay=5.0, exit_timeout=0)
    if client.disabled:
        return 0
    if args.command == "run-state":
        client.run_state(
            args.project,
            args.run_id,
            args.name or args.run_id,
            args.state,
            url=args.run_url,
            author=args.author,
            event_id=args.event_id,
        )
    else:
        client.alert(
            args.title,
            args.text,
            args.level,
            project=args.project,
            run_id=args.run_id,
            run_name=args.name,
            author=args.author,
        )
    delivered = client.flush(args.timeout)
    stats = client.stats
    client.close(0)
    if delivered and stats["sent"] > 0 and stats["refused"] == 0:
        return 0
    if stats["refused"] or stats["sent"] == 0 and delivered:
        print("herald: the event was not sent (see the message above)", file=sys.stderr)
    else:
        print(f"herald: Herald did not answer within {args.timeout:g} s; the event was not sent", file=sys.stderr)
    return 1
