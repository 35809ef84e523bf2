"""Settings: defaults, the user's file, the environment; unknown keys and wrong types name the key."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from bot.errors import SettingsError
from bot.settings import load_settings


def test_defaults_load_and_are_frozen() -> None:
    """With no file and no environment the shipped defaults apply, and cannot be changed."""
    settings = load_settings(env={})
    assert settings.storage.database == "shield.db"
    assert settings.fetch.allow_private_addresses is False
    assert [s.list for s in settings.lists.seed] == ["deepfake-sites", "platform-allow"]
    with pytest.raises(AttributeError):
        settings.links.lookalikes = False  # type: ignore[misc]


def test_user_file_and_environment_override(tmp_path: Path) -> None:
    """The user's file changes only what it names; SHIELD_DB wins over both; secrets from env."""
    user = tmp_path / "mine.toml"
    user.write_text("[links]\nlookalikes = false\n[storage]\ndatabase = 'a.db'\n")
    settings = load_settings(user, env={"SHIELD_DB": "b.db", "DISCORD_TOKEN": "secret-token"})
    assert settings.links.lookalikes is False
    assert settings.links.keywords is True
    assert settings.storage.database == "b.db"
    assert settings.secrets.discord_token == "secret-token"
    assert "secret-token" not in repr(settings)
    via_env = load_settings(env={"SHIELD_CONFIG": str(user)})
    assert via_env.storage.database == "a.db"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[links]\nlookalike = true\n", "unknown key 'links.lookalike'"),
        ("[linkz]\nx = 1\n", "unknown key 'linkz'"),
        ("[links]\nlookalikes = 'yes'\n", "links.lookalikes"),
        ("[fetch]\nmax_bytes = 'big'\n", "fetch.max_bytes"),
        ("[fetch]\nmax_redirects = 99\n", "fetch.max_redirects must be between 0 and 10"),
        ("[logging]\nlevel = 'LOUD'\n", "logging.level"),
        ("[[lists.seed]]\nfile = 'x.txt'\nlist = 'x'\ntier = 'maybe'\n", "lists.seed[0].tier"),
        ("[secrets]\ndiscord_token = 'x'\n", "secrets never go in a settings file"),
        ("this is = not toml [", "not valid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    """Each mistake is a SettingsError that names the file and the key."""
    user = tmp_path / "bad.toml"
    user.write_text(toml)
    with pytest.raises(SettingsError) as info:
        load_settings(user, env={})
    assert message in str(info.value)
    assert "bad.toml" in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A settings path that does not exist says so."""
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})


def test_settings_round_trip_to_builtins() -> None:
    """Settings convert to plain data (for logging a redacted copy)."""
    data = msgspec.to_builtins(load_settings(env={}))
    assert data["matching"]["pdq_block_distance"] == 31


def test_platform_urls_from_the_environment() -> None:
    """SHIELD_DISCORD_* and SHIELD_TWITCH_* point the bot at another server (the sandbox)."""
    env = {
        "SHIELD_DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",
        "SHIELD_DISCORD_GATEWAY": "ws://127.0.0.1:9/gateway",
        "SHIELD_TWITCH_API_BASE": "http://127.0.0.1:9/helix/",
        "SHIELD_TWITCH_ID_BASE": "http://127.0.0.1:9/",
        "SHIELD_TWITCH_EVENTSUB_URL": "ws://127.0.0.1:9/ws",
    }
    settings = load_settings(env=env)
    assert settings.discord.api_base == env["SHIELD_DISCORD_API_BASE"]
    assert settings.discord.gateway == env["SHIELD_DISCORD_GATEWAY"]
    assert settings.twitch.api_base == env["SHIELD_TWITCH_API_BASE"]
    assert settings.twitch.id_base == env["SHIELD_TWITCH_ID_BASE"]
    assert settings.twitch.eventsub_url == env["SHIELD_TWITCH_EVENTSUB_URL"]
    with pytest.raises(SettingsError, match=r"discord\.gateway"):
        load_settings(env={"SHIELD_DISCORD_GATEWAY": "http://not-a-websocket"})


def test_review_support_text_replaces_the_built_in_pointers(tmp_path: Path) -> None:
    """[review] support_text, when set, is the victim-support text everywhere; blank is refused."""
    from bot.review.workflow import SUPPORT_TEXT, support_text

    default = load_settings(env={})
    assert default.review.support_text is None
    assert support_text(default) == SUPPORT_TEXT
    assert support_text(default, "the platform's own wording") == "the platform's own wording"
    user = tmp_path / "mine.toml"
    user.write_text("[review]\nsupport_text = '  Write to safety@example.org  '\n")
    configured = load_settings(user, env={})
    assert support_text(configured) == "Write to safety@example.org"
    assert support_text(configured, "the platform's own wording") == "Write to safety@example.org"
    user.write_text("[review]\nsupport_text = '   '\n")
    with pytest.raises(SettingsError, match=r"review\.support_text must be text of 1 to"):
        load_settings(user, env={})
