"""The local Discord serves the real, unmodified discord.py client: login, events, REST, resume."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.sandbox.discord import (
    ChannelSpec,
    Default,
    GuildSpec,
    Intent,
    LocalDiscord,
    MemberSpec,
    Perm,
    UserSpec,
)

with warnings.catch_warnings():
    # discord.py imports the deprecated audioop module (voice support) on Python 3.11-3.12.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord import app_commands

D = Default
HEARTBEAT_MS = 200


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalDiscord]:
    async with LocalDiscord(heartbeat_interval_ms=HEARTBEAT_MS) as local:
        with local.patch_discord_py():
            yield local


def all_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return intents


def make_client(intents: discord.Intents | None = None, **options: Any) -> discord.Client:
    return discord.Client(intents=intents or all_intents(), guild_ready_timeout=0.05, **options)


@contextlib.asynccontextmanager
async def running(client: discord.Client, token: str = D.TOKEN) -> AsyncIterator[discord.Client]:
    """Starts the client in a task, waits for on_ready, and closes it cleanly afterwards."""
    async with client:
        task = asyncio.create_task(client.start(token))
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when="FIRST_COMPLETED")
        if ready not in done:
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ready
            if task in done:
                task.result()
            raise AssertionError("client never became ready")
        try:
            yield client
        finally:
            await client.close()
            await asyncio.wait_for(task, 5)


async def next_message(client: discord.Client, **match: Any) -> discord.Message:
    def check(message: discord.Message) -> bool:
        return all(getattr(message, k) == v for k, v in match.items())

    return await client.wait_for("message", check=check, timeout=5)


# -- login and the world ----------------------------------------------------------------------------


async def test_login_ready_and_the_default_world(sandbox: LocalDiscord) -> None:
    """discord.py logs in, identifies, and sees guild 111 with its channels, threads and roles."""
    async with running(make_client()) as client:
        assert client.user is not None and client.user.id == D.BOT
        assert client.application_id == D.BOT
        guild = client.get_guild(D.GUILD)
        assert guild is not None and guild.name == "Stream"
        assert {c.name for c in guild.text_channels} == {"alerts", "general", "announcements"}
        assert {t.name for t in guild.threads} == {"clips", "my art"}
        assert isinstance(guild.get_channel(D.FORUM), discord.ForumChannel)
        assert isinstance(guild.get_channel(D.VOICE), discord.VoiceChannel)
        assert guild.get_channel(D.NEWS).is_news()  # type: ignore[union-attr]
        assert guild.get_member(D.MOD) is not None and guild.member_count == 4
        me = guild.me.guild_permissions
        assert me.manage_messages and me.moderate_members and me.ban_members
        alerts = guild.get_channel(D.ALERTS)
        assert alerts is not None
        assert not alerts.permissions_for(guild.get_member(D.MEMBER)).view_channel  # type: ignore[arg-type]
        assert alerts.permissions_for(guild.me).view_channel
    assert sandbox.find_requests("GET", "/users/@me")
    assert sandbox.find_requests("GET", "/oauth2/applications/@me")
    identify = sandbox.frames.find(lambda f: f.op == 2)[0]
    assert identify.data["intents"] & Intent.MESSAGE_CONTENT


async def test_wrong_token_is_a_login_failure(sandbox: LocalDiscord) -> None:
    client = make_client()
    async with client:
        with pytest.raises(discord.LoginFailure):
            await client.start("not-the-token")
    assert sandbox.find_requests("GET", "/users/@me")[0].status == 401


async def test_json_content_type_is_exact(sandbox: LocalDiscord) -> None:
    """discord.py compares Content-Type with ==, so no charset may follow application/json."""
    headers = {"Authorization": f"Bot {sandbox.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(sandbox.api_base + "/users/@me", headers=headers) as response:
            assert response.headers["Content-Type"] == "application/json"
        async with session.get(sandbox.api_base + "/channels/9/messages", headers=headers) as r:
            assert r.status == 404 and (await r.json())["code"] == 10003


# -- messages in -------------------------------------------------------------------------------------


async def test_on_message_with_attachment_served_locally(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        sent = await sandbox.send_message(
            D.GENERAL, D.MEMBER, "look", attachments=[("my cat.png", b"\x89PNG fake", "image/png")]
        )
        message = await next_message(client, content="look")
        assert message.id == int(sent["id"]) and message.author.id == D.MEMBER
        assert isinstance(message.author, discord.Member) and message.guild is not None
        attachment = message.attachments[0]
        assert attachment.url.startswith(sandbox.base_url)
        assert await attachment.read() == b"\x89PNG fake"
        assert attachment.content_type == "image/png"
    assert sandbox.find_requests("GET", re.compile(r"/attachments/\d+/my cat\.png"))


async def test_threads_forum_posts_voice_text_and_dms_deliver(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        for channel_id, kind in [
            (D.THREAD, discord.Thread),
            (D.FORUM_POST, discord.Thread),
            (D.VOICE, discord.VoiceChannel),
            (D.NEWS, discord.TextChannel),
        ]:
            await sandbox.send_message(channel_id, D.MEMBER, f"in {channel_id}")
            message = await next_message(client, content=f"in {channel_id}")
            assert isinstance(message.channel, kind)
        await sandbox.dm(D.MEMBER, "psst")
        message = await next_message(client, content="psst")
        assert isinstance(message.channel, discord.DMChannel) and message.guild is None


async def test_forwarded_message_carries_snapshots(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        original = await sandbox.send_message(
            D.GENERAL,
            D.MEMBER,
            "see https://example.test",
            attachments=[("x.jpg", b"jpg", "image/jpeg")],
        )
        await next_message(client, id=int(original["id"]))
        await sandbox.forward(D.THREAD, D.MOD, D.GENERAL, int(original["id"]))
        message = await next_message(client, channel=client.get_channel(D.THREAD))
        assert message.content == ""
        [snapshot] = message.message_snapshots
        assert snapshot.content == "see https://example.test"
        assert await snapshot.attachments[0].read() == b"jpg"


async def test_edit_dispatches_message_update(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        sent = await sandbox.send_message(D.GENERAL, D.MEMBER, "harmless")
        await next_message(client, content="harmless")
        edited = asyncio.ensure_future(client.wait_for("message_edit", timeout=5))
        await sandbox.edit_message(D.GENERAL, int(sent["id"]), content="now bad")
        before, after = await edited
        assert (before.content, after.content) == ("harmless", "now bad")


async def test_history_catch_up(sandbox: LocalDiscord) -> None:
    first = await sandbox.send_message(D.GENERAL, D.MEMBER, "one")
    for text in ("two", "three"):
        await sandbox.send_message(D.GENERAL, D.MEMBER, text)
    async with running(make_client()) as client:
        channel = client.get_channel(D.GENERAL)
        assert isinstance(channel, discord.TextChannel)
        after = discord.Object(int(first["id"]))
        texts = [m.content async for m in channel.history(after=after, limit=100)]
        assert texts == ["two", "three"]


# -- message content intent ----------------------------------------------------------------------


async def test_without_message_content_intent_guild_content_is_stripped(
    sandbox: LocalDiscord,
) -> None:
    async with running(make_client(discord.Intents.default())) as client:
        await sandbox.send_message(
            D.GENERAL, D.MEMBER, "secret", attachments=[("a.png", b"x", "image/png")]
        )
        message = await next_message(client, channel=client.get_channel(D.GENERAL))
        assert message.content == "" and message.attachments == []
        await sandbox.send_message(D.GENERAL, D.MEMBER, f"<@{D.BOT}> hi")
        message = await next_message(client, channel=client.get_channel(D.GENERAL))
        assert message.content == f"<@{D.BOT}> hi"
        await sandbox.dm(D.MEMBER, "dm text")
        message = await next_message(client, content="dm text")
        assert message.guild is None


async def test_refused_privileged_intent_closes_4014() -> None:
    async with (
        LocalDiscord(heartbeat_interval_ms=HEARTBEAT_MS, allowed_privileged_intents=0) as local,
        local.patch_discord_py(),
    ):
        client = make_client()
        async with client:
            with pytest.raises(discord.PrivilegedIntentsRequired):
                await asyncio.wait_for(client.start(local.token), 10)


# -- REST actions --------------------------------------------------------------------------------


async def test_delete_is_recorded_and_the_message_is_gone(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        sent = await sandbox.send_message(D.GENERAL, D.MEMBER, "nudify.example")
        message = await next_message(client, content="nudify.example")
        await message.delete()
        path = f"/channels/{D.GENERAL}/messages/{sent['id']}"
        request = await sandbox.wait_for_request("DELETE", path)
        assert request.status == 204 and request.at >= 0
        assert sandbox.message(D.GENERAL, message.id) is None
        assert (await sandbox.wait_for_event("MESSAGE_DELETE")).data["id"] == sent["id"]
        with pytest.raises(discord.NotFound) as gone:
            await message.delete()
        assert gone.value.code == 10008


async def test_send_embed_and_view_then_button_click(sandbox: LocalDiscord) -> None:
    clicked: list[discord.Interaction] = []

    class Review(discord.ui.View):
        @discord.ui.button(label="Delete", custom_id="review:delete")
        async def delete(
            self, interaction: discord.Interaction, button: discord.ui.Button[Review]
        ) -> None:
            clicked.append(interaction)
            await interaction.response.send_message("done", ephemeral=True)

    async with running(make_client()) as client:
        channel = client.get_channel(D.ALERTS)
        assert isinstance(channel, discord.TextChannel)
        embed = discord.Embed(title="Blocked link", description="clothoff.io")
        sent = await channel.send(embed=embed, view=Review(timeout=None))
        post = await sandbox.wait_for_request("POST", f"/channels/{D.ALERTS}/messages")
        assert post.json["embeds"][0]["title"] == "Blocked link"
        assert post.json["components"][0]["components"][0]["custom_id"] == "review:delete"
        record = await sandbox.click(D.ALERTS, sent.id, "review:delete", user_id=D.MOD)
        callback = await record.wait_response()
        assert callback["type"] == 4 and callback["data"]["content"] == "done"
        request = await sandbox.wait_for_request(
            "POST", f"/interactions/{record.id}/{record.token}/callback"
        )
        assert request.query == {"with_response": "1"}
        assert clicked[0].user.id == D.MOD and clicked[0].message is not None
        assert (
            record.original is not None
            and sandbox.message(D.ALERTS, int(record.original["id"])) is None
        )


async def test_slash_sync_command_and_context_menu(sandbox: LocalDiscord) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)
    seen: list[str] = []

    @tree.command(name="shield", description="Shield status")
    async def status(interaction: discord.Interaction, detail: str) -> None:
        seen.append(detail)
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("all good")

    @tree.context_menu(name="Report")
    async def report(interaction: discord.Interaction, message: discord.Message) -> None:
        seen.append(message.content)
        await interaction.response.send_message("reported", ephemeral=True)

    async with running(client):
        synced = await tree.sync()
        assert {c.name for c in synced} == {"shield", "Report"}
        put = await sandbox.wait_for_request("PUT", f"/applications/{D.BOT}/commands")
        assert {c["name"] for c in put.json} == {"shield", "Report"}

        record = await sandbox.slash_command(
            "shield", channel_id=D.GENERAL, user_id=D.MOD, options={"detail": "full"}
        )
        assert (await record.wait_response())["type"] == 5
        await sandbox.wait_for_request("POST", f"/webhooks/{D.BOT}/{record.token}")
        assert record.original is not None and record.original["content"] == "all good"

        target = await sandbox.send_message(D.GENERAL, D.MEMBER, "undress app link")
        menu = await sandbox.message_command(
            "Report", channel_id=D.GENERAL, message_id=int(target["id"]), user_id=D.MOD
        )
        assert (await menu.wait_response())["data"]["content"] == "reported"
    assert seen == ["full", "undress app link"]


async def test_timeout_and_ban_are_recorded_with_reasons(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        guild = client.get_guild(D.GUILD)
        assert guild is not None
        member = guild.get_member(D.MEMBER)
        assert member is not None
        await member.timeout(timedelta(minutes=10), reason="posted a nudify link")
        patch = await sandbox.wait_for_request("PATCH", f"/guilds/{D.GUILD}/members/{D.MEMBER}")
        assert patch.reason == "posted a nudify link"
        assert patch.json["communication_disabled_until"] is not None
        assert sandbox.member(D.GUILD, D.MEMBER).communication_disabled_until is not None  # type: ignore[union-attr]

        spam = await sandbox.send_message(D.GENERAL, D.MEMBER, "spam")
        await guild.ban(member, delete_message_seconds=3600, reason="deepfake spam")
        put = await sandbox.wait_for_request("PUT", f"/guilds/{D.GUILD}/bans/{D.MEMBER}")
        assert put.query["delete_message_seconds"] == "3600"
        assert put.reason == "deepfake spam"
        assert sandbox.message(D.GENERAL, int(spam["id"])) is None
        assert sandbox.member(D.GUILD, D.MEMBER) is None
        assert sandbox.world.guilds[D.GUILD].bans[D.MEMBER] == "deepfake spam"

        owner = guild.get_member(D.OWNER)
        assert owner is not None
        with pytest.raises(discord.Forbidden) as refused:
            await owner.timeout(timedelta(minutes=1))
        assert refused.value.code == 50013


async def test_suppress_embeds_on_someone_elses_message(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        embed = {"type": "link", "url": "https://mrdeepfakes.example", "title": "preview"}
        sent = await sandbox.send_message(D.GENERAL, D.MEMBER, "link", embeds=[embed])
        message = await next_message(client, content="link")
        assert len(message.embeds) == 1
        await message.edit(suppress=True)
        patch = await sandbox.wait_for_request(
            "PATCH", f"/channels/{D.GENERAL}/messages/{sent['id']}"
        )
        assert patch.json["flags"] == 4 and patch.status == 200
        assert sandbox.message(D.GENERAL, message.id)["embeds"] == []  # type: ignore[index]
        with pytest.raises(discord.Forbidden) as refused:
            await message.edit(content="rewritten")
        assert refused.value.code == 50005


async def test_missing_permission_is_forbidden_50013() -> None:
    guild = GuildSpec(
        id=10,
        name="Strict",
        channels=[ChannelSpec(20, "chat")],
        members=[MemberSpec(30)],
        bot_permissions=int(Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES),
        everyone_permissions=int(Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES),
    )
    async with (
        LocalDiscord(
            guilds=[guild], users=[UserSpec(30, "troll")], heartbeat_interval_ms=HEARTBEAT_MS
        ) as local,
        local.patch_discord_py(),
        running(make_client()) as client,
    ):
        await local.send_message(20, 30, "bad")
        message = await next_message(client, content="bad")
        with pytest.raises(discord.Forbidden) as refused:
            await message.delete()
        assert refused.value.code == 50013
        assert local.message(20, message.id) is not None


async def test_deleting_a_users_dm_is_refused_50003(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        await sandbox.dm(D.MEMBER, "dm spam")
        message = await next_message(client, content="dm spam")
        with pytest.raises(discord.Forbidden) as refused:
            await message.delete()
        assert refused.value.code == 50003
        own = await message.channel.send("Your message was flagged.")
        await own.delete()


async def test_429_storm_is_retried_until_success(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        sent = await sandbox.send_message(D.GENERAL, D.MEMBER, "storm")
        message = await next_message(client, content="storm")
        rule = sandbox.rate_limit(3, method="DELETE", retry_after=0.02)
        await message.delete()
        path = f"/channels/{D.GENERAL}/messages/{sent['id']}"
        statuses = [r.status for r in sandbox.find_requests("DELETE", path)]
        assert statuses == [429, 429, 429, 204] and rule.hits == 3
        limited = sandbox.find_requests("DELETE", path)[0]
        assert limited.response["retry_after"] == 0.02 and limited.response["global"] is False


# -- gateway resilience --------------------------------------------------------------------------


async def test_forced_reconnect_resumes_and_messages_keep_flowing(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        resumed = asyncio.ensure_future(client.wait_for("resumed", timeout=5))
        assert await sandbox.force_reconnect() == 1
        await resumed
        resume = await sandbox.wait_for_frame(6)
        assert resume.data["session_id"] in sandbox.gateway.sessions
        assert any(c.path == "/resume-gateway" for c in sandbox.gateway.connections)
        await sandbox.send_message(D.GENERAL, D.MEMBER, "after resume")
        await next_message(client, content="after resume")


async def test_events_sent_while_disconnected_arrive_after_resume(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        await sandbox.disconnect(4000)
        await sandbox.send_message(D.GENERAL, D.MEMBER, "during outage")
        await next_message(client, content="during outage")
        await sandbox.wait_for_event("RESUMED")


async def test_replay_on_resume_delivers_an_event_twice() -> None:
    async with (
        LocalDiscord(heartbeat_interval_ms=HEARTBEAT_MS, replay_on_resume=1) as local,
        local.patch_discord_py(),
        running(make_client()) as client,
    ):
        seen: list[int] = []
        client.event(_collector(seen))
        sent = await local.send_message(D.GENERAL, D.MEMBER, "once")
        await next_message(client, content="once")
        await local.force_reconnect()
        await local.wait_for_event("RESUMED")
        await local.send_message(D.GENERAL, D.MEMBER, "after")
        await next_message(client, content="after")
        assert seen.count(int(sent["id"])) == 2


def _collector(seen: list[int]) -> Any:
    async def on_message(message: discord.Message) -> None:
        seen.append(message.id)

    return on_message


async def test_invalid_session_leads_to_a_fresh_identify(sandbox: LocalDiscord) -> None:
    class Quick(discord.Client):
        async def before_identify_hook(
            self, shard_id: int | None, *, initial: bool = False
        ) -> None:
            return None

    async with running(Quick(intents=all_intents(), guild_ready_timeout=0.05)) as client:
        await sandbox.invalidate_session(resumable=False)
        await sandbox.wait_for_frame(2)
        await sandbox.wait_for_frame(2)
        await sandbox.wait_for_event("READY")
        await sandbox.wait_for_event("READY")
        await sandbox.send_message(D.GENERAL, D.MEMBER, "new session")
        await next_message(client, content="new session")


async def test_zlib_stream_frames_are_understood() -> None:
    async with (
        LocalDiscord(heartbeat_interval_ms=HEARTBEAT_MS, compress=True) as local,
        local.patch_discord_py(),
        running(make_client()) as client,
    ):
        await local.send_message(D.GENERAL, D.MEMBER, "compressed")
        await next_message(client, content="compressed")


async def test_wait_for_request_times_out_with_what_it_saw(sandbox: LocalDiscord) -> None:
    with pytest.raises(TimeoutError, match="no DELETE"):
        await sandbox.wait_for_request("DELETE", "/channels/1/messages/2", timeout=0.05)


async def test_bot_upload_is_multipart_and_served_back(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        channel = client.get_channel(D.ALERTS)
        assert isinstance(channel, discord.TextChannel)
        file = discord.File(io.BytesIO(b"evidence bytes"), filename="evidence.txt")
        sent = await channel.send("report", file=file)
        post = await sandbox.wait_for_request("POST", f"/channels/{D.ALERTS}/messages")
        assert post.json["content"] == "report"
        assert [(f.filename, f.data) for f in post.files] == [("evidence.txt", b"evidence bytes")]
        assert await sent.attachments[0].read() == b"evidence bytes"


async def test_permission_change_reaches_client_and_server(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        guild = client.get_guild(D.GUILD)
        assert guild is not None and guild.me.guild_permissions.manage_messages
        updated = asyncio.ensure_future(client.wait_for("guild_role_update", timeout=5))
        await sandbox.set_role_permissions(D.GUILD, D.BOT_ROLE, int(Perm.VIEW_CHANNEL))
        await updated
        assert not guild.me.guild_permissions.manage_messages
        await sandbox.send_message(D.GENERAL, D.MEMBER, "can't touch this")
        message = await next_message(client, content="can't touch this")
        with pytest.raises(discord.Forbidden):
            await message.delete()


async def test_latency_from_dispatch_to_delete_is_measurable(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:

        @client.event
        async def on_message(message: discord.Message) -> None:
            if "clothoff" in message.content:
                await message.delete()

        sent = await sandbox.send_message(D.GENERAL, D.MEMBER, "clothoff.io/x")
        delete = await sandbox.wait_for_request(
            "DELETE", f"/channels/{D.GENERAL}/messages/{sent['id']}"
        )
        dispatched = sandbox.dispatched_at(sent["id"])
        assert dispatched is not None and 0 < delete.at - dispatched < 5


async def test_global_429_is_waited_out(sandbox: LocalDiscord) -> None:
    async with running(make_client()) as client:
        sandbox.rate_limit(1, path=f"/channels/{D.GENERAL}/messages", is_global=True)
        channel = client.get_channel(D.GENERAL)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("after the storm")
        statuses = [
            r.status for r in sandbox.find_requests("POST", f"/channels/{D.GENERAL}/messages")
        ]
        assert statuses == [429, 200]


async def test_context_menu_in_a_dm(sandbox: LocalDiscord) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)
    reported: list[tuple[int, str]] = []

    @tree.context_menu(name="Report")
    async def report(interaction: discord.Interaction, message: discord.Message) -> None:
        reported.append((interaction.user.id, message.content))
        await interaction.response.send_message("thanks", ephemeral=True)

    async with running(client):
        dm = await sandbox.dm(D.MEMBER, "someone sent me this")
        record = await sandbox.message_command(
            "Report", channel_id=int(dm["channel_id"]), message_id=int(dm["id"]), user_id=D.MEMBER
        )
        assert (await record.wait_response())["data"]["content"] == "thanks"
        assert record.guild_id is None and "user" in record.payload
    assert reported == [(D.MEMBER, "someone sent me this")]


async def test_button_that_edits_its_message(sandbox: LocalDiscord) -> None:
    class Confirm(discord.ui.View):
        @discord.ui.button(label="Keep", custom_id="review:keep")
        async def keep(
            self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]
        ) -> None:
            await interaction.response.defer()
            await interaction.edit_original_response(content="Kept by a moderator", view=None)

    async with running(make_client()) as client:
        channel = client.get_channel(D.ALERTS)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("Held for review", view=Confirm(timeout=None))
        record = await sandbox.click(D.ALERTS, sent.id, "review:keep", user_id=D.MOD)
        assert (await record.wait_response())["type"] == 6
        await sandbox.wait_for_request(
            "PATCH", f"/webhooks/{D.BOT}/{record.token}/messages/@original"
        )
        stored = sandbox.message(D.ALERTS, sent.id)
        assert stored is not None and stored["content"] == "Kept by a moderator"
        assert stored["components"] == []
