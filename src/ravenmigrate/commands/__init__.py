"""One module per subcommand; each exposes ``register(subparsers)`` (see ravenmigrate.cli)."""
