"""The ``aekit`` command line: one module per subcommand, each ``add_parser`` + ``run``."""
