"""Command-line groups, registered explicitly by the app factory."""

from coalition.commands.coalition import coalition_cli
from coalition.commands.digests import digests_cli
from coalition.commands.events import events_cli
from coalition.commands.listings import listings_cli
from coalition.commands.matching import matching_cli
from coalition.commands.reports import reports_cli
from coalition.commands.stock import stock_cli

COMMAND_GROUPS = (
    coalition_cli,
    matching_cli,
    events_cli,
    listings_cli,
    digests_cli,
    reports_cli,
    stock_cli,
)
