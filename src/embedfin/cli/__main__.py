"""``python -m embedfin.cli``: the same as the ``embedfin`` console script."""

from embedfin.cli import main

main()
