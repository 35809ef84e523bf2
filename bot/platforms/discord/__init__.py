"""Shield on Discord: client, translation to the scan context, enforcement, alerts and reviews.

discord.py imports the deprecated `audioop` module (voice, unused here) on Python 3.11-3.12;
it is imported once here with that one warning silenced, so `-W error` runs stay clean.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401
