"""One module per `pullthrough` subcommand; each has `register(subparsers)`."""
