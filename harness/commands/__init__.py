"""One module per `pullthrough` subcommand; each has `register(subparsers)` and raises `UsageError`."""

USAGE_ERROR = 2


class UsageError(Exception):
    """A bad command line or an unusable environment: one line on stderr, exit 2."""
