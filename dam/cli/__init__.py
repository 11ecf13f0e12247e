"""`dam`: the command line, one module per command group, each a thin adapter over dam.usecases
(the functions the HTTP service calls too). dam.cli.app holds the group, the shared output
helpers and the one mapping from errors to exit codes; importing this package registers every
command on it. Commands import the use cases they run inside their bodies: the package imports in
0.3 s, with every use case and the Library 2.1 s (measured on 2 cores), and `dam --help`, a
mistyped command or `dam samples` should not pay for that."""

from dam.cli import curate, demo, index, media, remote, safety, serve  # noqa: F401  (each registers its commands)
from dam.cli.app import EXIT_AUTH, EXIT_FAILED, EXIT_NOT_FOUND, EXIT_PARTIAL, EXIT_USAGE, cli, main

__all__ = ["EXIT_AUTH", "EXIT_FAILED", "EXIT_NOT_FOUND", "EXIT_PARTIAL", "EXIT_USAGE", "cli", "main"]
