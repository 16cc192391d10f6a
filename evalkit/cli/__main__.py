"""``python -m evalkit.cli`` runs the ``evalkit`` command."""

from evalkit.cli.main import main

main()
