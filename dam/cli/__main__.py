"""`python -m dam.cli`: the same entry point as the `dam` console script."""

from dam.cli.app import main

if __name__ == "__main__":
    main()
