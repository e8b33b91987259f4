"""Command-line groups, registered explicitly by the app factory."""

from coalition.commands.coalition import coalition_cli

COMMAND_GROUPS = (coalition_cli,)
