"""``python -m evalkit`` runs the ``evalkit`` command."""

from evalkit.cli.main import main

main()
