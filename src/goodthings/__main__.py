"""`python -m goodthings`: the same as the `goodthings` command."""

from goodthings.cli import main

main()
