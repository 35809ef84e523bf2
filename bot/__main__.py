"""`python -m bot`: the same entry point as the `shield` command."""

from bot.cli import main

if __name__ == "__main__":
    main()
