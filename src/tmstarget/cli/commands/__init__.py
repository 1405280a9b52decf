"""One module per subcommand; see :mod:`tmstarget.cli.parser`."""
