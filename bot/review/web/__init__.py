"""The review dashboard: server-rendered pages over the review service, the vault and storage.

Import `bot.review.web.app` for the aiohttp application; `bot.review.web.accounts` (login links,
passwords) needs no web framework, so this package imports nothing on its own.
"""
