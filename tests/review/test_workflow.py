"""The case workflow: decisions are recorded once, and teach the lists and banks."""

from __future__ import annotations

from bot.app import App
from bot.review.workflow import CONFIRMED_BANK, FALSE_POSITIVES, ReviewService, packet_html
from bot.storage.cases import CaseRepo

PDQ = "f" * 16 + "0" * 48


def case(
    app: App,
    findings: list[dict[str, object]],
    hashes: list[dict[str, object]] | None = None,
    mid: str = "1",
) -> int:
    opened, _ = CaseRepo(app.db).open(
        platform="discord", community="discord:111", channel_id="2", message_id=mid,
        author_id="discord:7", author_name="<b>troll</b>", jump_url="https://discord.com/channels/111/2/1",
        tier="review", findings=findings, hashes=hashes or [], action="held", dry_run=False,
    )  # fmt: skip
    return opened.id


def test_dismissing_a_lookalike_allows_the_seen_host_not_the_listed_one(app: App) -> None:
    """A false look-alike goes on the allow-list; the real listed domain stays blocked."""
    finding = {
        "signal": "lookalike",
        "value": "clothoff-fan.example",
        "matched": "clothoff.io",
        "list": "deepfake-sites",
        "tier": "review",
    }
    review = ReviewService(app)
    decision = review.dismiss(case(app, [finding]), by="discord:9", note="fan site")
    assert decision.changed and decision.case.state == "dismissed"
    rules = {r["value"] for r in app.lists.entries(app.lists.get(FALSE_POSITIVES).id)}  # type: ignore[union-attr]
    assert rules == {"clothoff-fan.example"}
    assert app.link_scanner.scan("clothoff.io").verdict == "block"
    assert app.link_scanner.scan("clothoff-fan.example").verdict == "allow"


def test_a_second_decision_changes_nothing(app: App) -> None:
    """When two moderators click, only the first decision counts."""
    review = ReviewService(app)
    cid = case(app, [])
    assert review.confirm(cid, by="discord:9").changed
    assert not review.dismiss(cid, by="discord:10").changed
    assert review.cases.get(cid).state == "confirmed"  # type: ignore[union-attr]
    actions = [e.action for e in app.audit.recent(10)]
    assert actions.count("case.confirm") == 1 and "case.dismiss" not in actions


def test_confirming_adds_the_hashes_to_a_bank(app: App) -> None:
    """A confirmed item's hashes go to the confirmed bank, so the next copy is blocked."""
    review = ReviewService(app)
    cid = case(app, [], hashes=[{"md5": "a" * 32, "sha256": "b" * 64, "pdq": [PDQ]}])
    decision = review.confirm(cid, by="discord:9")
    assert decision.learned == [f"3 hashes added to bank {CONFIRMED_BANK}"]


def test_dismissing_a_hash_match_feeds_the_allow_bank(app: App) -> None:
    """A dismissed image match puts the seen hash in the allow bank."""
    finding = {
        "signal": "pdq",
        "value": PDQ,
        "matched": PDQ,
        "bank": "shared",
        "tier": "block",
        "distance": 0,
    }
    decision = ReviewService(app).dismiss(case(app, [finding]), by="discord:9")
    assert decision.learned == [f"1 hashes added to allow bank {FALSE_POSITIVES}"]


def test_evidence_packet_has_no_media_and_escapes_html(app: App) -> None:
    """The packet names what, where, when and who decided; its HTML escapes every value."""
    review = ReviewService(app)
    cid = case(
        app,
        [
            {
                "signal": "domain",
                "value": "clothoff.io",
                "matched": "clothoff.io",
                "list": "deepfake-sites",
                "tier": "block",
            }
        ],
    )
    review.confirm(cid, by="discord:9")
    packet = review.packet(cid, by="discord:9")
    assert packet["media_included"] is False and packet["state"] == "confirmed"
    assert [e["action"] for e in packet["history"]] == ["case.confirm"]
    page = packet_html(packet)
    assert "&lt;b&gt;troll&lt;/b&gt;" in page and "<b>troll" not in page
    assert "<script" not in page and "StopNCII" in page


def test_undecided_cases_expire(app: App) -> None:
    """Open cases older than the cut-off become expired; decided ones keep their state."""
    review = ReviewService(app)
    old, decided = case(app, [], mid="1"), case(app, [], mid="2")
    review.confirm(decided, by="discord:9")
    assert review.cases.expire_open(before="9999-01-01") == 1
    assert review.cases.get(old).state == "expired"  # type: ignore[union-attr]
    assert review.cases.get(decided).state == "confirmed"  # type: ignore[union-attr]
