"""The bot token's store, scope check and log redaction, without a network."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import msgspec
import pytest

from bot.platforms.twitch import _redact
from bot.platforms.twitch._seen import Cooldown, SeenIds
from bot.platforms.twitch.tokens import (
    MissingScopeError,
    TokenPair,
    TokenStore,
    TwitchSetupError,
    check_scopes,
    initial_tokens,
    needed_scopes,
)
from bot.settings import Secrets, load_settings


def test_store_is_owner_only_and_round_trips(tmp_path: Path) -> None:
    """The store file is created 0600 and gives back what was saved, per user."""
    store = TokenStore(tmp_path / "tokens.json")
    store.save("2002", TokenPair("access-one", "refresh-one"))
    store.save("9", TokenPair("other", "other-refresh"))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load("2002") == TokenPair("access-one", "refresh-one")
    assert set(json.loads(store.path.read_text())) == {"2002", "9"}
    assert list(tmp_path.iterdir()) == [store.path]  # no temp file left behind


def test_store_tightens_a_readable_file(tmp_path: Path) -> None:
    """A store others can read is made owner-only when loaded."""
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"1": {"token": "t" * 10, "refresh": "r" * 10}}))
    path.chmod(0o644)
    assert TokenStore(path).load("1") == TokenPair("t" * 10, "r" * 10)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_store_ignores_garbage(tmp_path: Path) -> None:
    """An unreadable store is ignored (the environment's token is used instead)."""
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    path.chmod(0o600)
    assert TokenStore(path).load("1") is None
    assert TokenStore(tmp_path / "missing.json").load("1") is None


def test_token_pair_repr_hides_both() -> None:
    """A token pair never shows its values, even in a debugger's repr."""
    assert "secret" not in repr(TokenPair("secret-token", "secret-refresh"))


def test_stored_token_comes_before_the_environment(tmp_path: Path) -> None:
    """The store's (refreshed) pair is tried first, the environment's second; none is an error."""
    settings = load_settings(env={})
    store = TokenStore(tmp_path / "t.json")
    with pytest.raises(TwitchSetupError, match="TWITCH_BOT_TOKEN"):
        initial_tokens(settings, store, "2002")
    env = msgspec.structs.replace(
        settings, secrets=Secrets(twitch_bot_token="env-token", twitch_bot_refresh_token="env-r")
    )
    store.save("2002", TokenPair("stored-token", "stored-r"))
    assert [p.token for p in initial_tokens(env, store, "2002")] == ["stored-token", "env-token"]


def test_missing_scope_error_names_each_scope(caplog: pytest.LogCaptureFixture) -> None:
    """A token without a needed scope gives an error, and a log line, naming it and its use."""
    settings = load_settings(env={})
    granted = needed_scopes(settings) - {"moderator:manage:chat_messages"}
    with caplog.at_level(logging.ERROR), pytest.raises(MissingScopeError) as raised:
        check_scopes(granted, settings)
    assert "moderator:manage:chat_messages (to delete a message)" in str(raised.value)
    assert "moderator:manage:chat_messages" in caplog.text
    check_scopes(needed_scopes(settings), settings)  # all present: no error


def test_chat_notices_need_the_write_scope() -> None:
    """With chat notices on, user:write:chat becomes required."""
    settings = load_settings(env={})
    notices = msgspec.structs.replace(
        settings, twitch=msgspec.structs.replace(settings.twitch, chat_notice=True)
    )
    assert "user:write:chat" in needed_scopes(notices) - needed_scopes(settings)


def test_redaction_hides_tokens_in_twitchio_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Known secrets, token URL parameters and auth headers never reach a log handler."""
    secret_filter = _redact.install(["known-access-token-123"])
    try:
        logger = logging.getLogger("twitchio.http")
        with caplog.at_level(logging.DEBUG, logger="twitchio"):
            logger.error(
                "Request POST http://x/oauth2/token?client_id=a&client_secret=sss&"
                "refresh_token=rrrr failed with %s",
                "known-access-token-123 and Authorization: OAuth abcdefgh1234",
            )
            try:
                raise ValueError("refresh_token=inside-traceback")
            except ValueError:
                logger.exception("boom")
    finally:
        _redact.remove(secret_filter)
    text = caplog.text
    for secret in ("sss", "rrrr", "known-access-token-123", "abcdefgh1234", "inside-traceback"):
        assert secret not in text
    assert "client_id=a" in text


def test_seen_ids_are_bounded_and_match_any_key() -> None:
    """An event is new once; a repeat under either of its keys is not; old ids fall out."""
    seen = SeenIds(size=3)
    assert seen.first("meta-1", "chat:1")
    assert not seen.first("meta-2", "chat:1")  # redelivered with a new metadata id
    assert not seen.first("meta-1", None)
    for n in range(5):
        seen.first(f"x{n}")
    assert len(seen) == 3 and seen.first("chat:1")


def test_cooldown() -> None:
    """One reply per key per period."""
    now = [0.0]
    cooldown = Cooldown(10, clock=lambda: now[0])
    assert cooldown.ready("a") and not cooldown.ready("a") and cooldown.ready("b")
    now[0] = 11
    assert cooldown.ready("a")
