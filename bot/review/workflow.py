"""The case workflow: confirm or dismiss, with what each decision teaches Shield.

Confirming can add the item's hashes to a bank, so the next copy is blocked at once; dismissing
puts what matched on an allow-list or allow bank, so the same false positive never returns.
Platforms carry out the ban or timeout a decision asks for; this module records and learns.
Every decision is in the audit log with the moderator who made it.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.core.actions import Enforced
from bot.core.rules import LinkRule, RuleKind, parse_rule
from bot.core.verdict import Tier
from bot.errors import InputError
from bot.storage.banks import NewBankEntry
from bot.storage.cases import Case, CaseRepo
from bot.storage.lists import NewEntry

if TYPE_CHECKING:
    from bot.app import App
    from bot.settings import Settings

log = logging.getLogger(__name__)

FALSE_POSITIVES = "false-positives"  # the allow-list and allow bank that dismissals feed
CONFIRMED_BANK = "confirmed"  # where confirmed items' hashes go
LINK_SIGNALS = ("domain", "path", "ip", "lookalike", "keyword")
HASH_SIGNALS = ("pdq", "phash", "md5", "sha256")

SUPPORT_TEXT = (
    "If intimate images of you (real or AI-made) are being shared: report them to the platform "
    "(discord.com/report, or Twitch's report button), hash your own images at StopNCII.org "
    "(adults) or Take It Down (takeitdown.ncmec.org, images from when you were under 18) so "
    "partner platforms block copies. In the US, platforms must remove reported intimate images "
    "within 48 hours (TAKE IT DOWN Act)."
)


def support_text(settings: Settings, default: str = SUPPORT_TEXT) -> str:
    """The victim-support text: `[review] support_text` when set, else `default` (the built-in
    text, or a platform's own wording of it for a DM or whisper reply)."""
    configured = (settings.review.support_text or "").strip()
    return configured or default


@dataclass(frozen=True, slots=True)
class Decision:
    case: Case
    changed: bool  # False when another moderator had already decided
    learned: list[str]  # what was added to lists or banks


class ReviewService:
    def __init__(self, app: App) -> None:
        self.app = app
        self.cases = CaseRepo(app.db)

    def _case(self, case_id: int) -> Case:
        case = self.cases.get(case_id)
        if case is None:
            raise InputError(f"there is no case {case_id}")
        return case

    def confirm(
        self,
        case_id: int,
        *,
        by: str,
        note: str | None = None,
        add_to_bank: bool = True,
        action: str = "none",
    ) -> Decision:
        """Confirm a case; its media hashes go to the `confirmed` bank unless told otherwise.
        `action` is what the platform carries out (ban, timeout, none), for the audit log."""
        case = self._case(case_id)
        changed = self.cases.decide(case_id, "confirmed", by=by, note=note)
        learned: list[str] = []
        if changed and add_to_bank:
            entries = [
                NewBankEntry("pdq", pdq, item=f"case {case_id}", source="confirmed case")
                for item in case.hashes
                for pdq in item.get("pdq", [])
            ] + [
                NewBankEntry(signal, item[signal], item=f"case {case_id}", source="confirmed case")
                for item in case.hashes
                for signal in ("md5", "sha256")
                if item.get(signal)
            ]
            if entries:
                bank, _ = self.app.banks.ensure(CONFIRMED_BANK, Tier.BLOCK, created_by=by)
                added, _ = self.app.banks.add_entries(bank.id, entries, added_by=by)
                learned.append(f"{added} hashes added to bank {CONFIRMED_BANK}")
        if changed:
            self.app.audit.record(
                by,
                "case.confirm",
                f"case:{case_id}",
                subject=case.author_id,
                community=case.community,
                detail={"action": action, "note": note, "learned": learned},
            )
            self.app.reload()
        return Decision(self._case(case_id), changed, learned)

    def dismiss(self, case_id: int, *, by: str, note: str | None = None) -> Decision:
        """Dismiss a case as a false positive; what matched goes on the allow-list/allow bank."""
        case = self._case(case_id)
        changed = self.cases.decide(case_id, "dismissed", by=by, note=note)
        learned: list[str] = []
        if changed:
            learned = self._allow(case, by)
            self.app.audit.record(
                by,
                "case.dismiss",
                f"case:{case_id}",
                subject=case.author_id,
                community=case.community,
                detail={"note": note, "learned": learned},
            )
            self.app.reload()
        return Decision(self._case(case_id), changed, learned)

    def _allow(self, case: Case, by: str) -> list[str]:
        """Allow what was seen: hosts go on the allow-list (never the listed rule: a dismissed
        look-alike must not allow the real listed domain), pictures' hashes in the allow bank."""
        learned: list[str] = []
        rules = []
        for finding in case.findings:
            if finding.get("signal") not in LINK_SIGNALS:
                continue
            rule = _seen_host(str(finding.get("value", "")))
            if rule is not None:
                rules.append(rule)
            else:
                learned.append(
                    f"not allow-listed: {finding.get('signal')} {finding.get('matched')} of list "
                    f"{finding.get('list')} (if that rule is wrong, remove it from its list)"
                )
        if rules:
            info = self.app.lists.ensure(FALSE_POSITIVES, Tier.ALLOW, created_by=by)
            entries = [NewEntry(r, note=f"dismissed case {case.id}") for r in dict.fromkeys(rules)]
            added, _ = self.app.lists.add_entries(info.id, entries, added_by=by)
            learned.append(f"{added} rules added to allow-list {FALSE_POSITIVES}")
        pictures = [
            (f["signal"], f["value"]) for f in case.findings if f.get("signal") in HASH_SIGNALS
        ]
        if pictures:  # the whole item is known good: its file hashes and every frame's PDQ
            for item in case.hashes:
                pictures += [(s, item[s]) for s in ("md5", "sha256") if item.get(s)]
                pictures += [("pdq", value) for value in item.get("pdq", [])]
            bank, _ = self.app.banks.ensure(FALSE_POSITIVES, Tier.ALLOW, created_by=by)
            entries_b = [
                NewBankEntry(s, v, item=f"case {case.id}", source=f"dismissed case {case.id}")
                for s, v in dict.fromkeys(pictures)
            ]
            added, _ = self.app.banks.add_entries(bank.id, entries_b, added_by=by)
            learned.append(f"{added} hashes added to allow bank {FALSE_POSITIVES}")
        return learned

    async def on_platform(self, case: Case, action: str, *, by: str, text: str = "") -> Enforced:
        """Ban, time out ("ban", "timeout") or message ("notify") a case's author through the
        running bot of the case's own platform; audited once here, whatever the platform.
        Without a running bot (a stand-alone dashboard) nothing is done and `failed` says so."""
        table = self.app.platform_notify if action == "notify" else self.app.platform_actions
        call = table.get(case.platform)
        if call is None:
            return Enforced(failed=[f"Shield's {case.platform} bot is not running here"])
        try:
            result = await call(case, text if action == "notify" else action, by)
        except Exception:
            log.exception("case %d: %s on %s failed", case.id, action, case.platform)
            result = Enforced(failed=[f"{action} failed (the error is in Shield's log)"])
        detail: dict[str, Any] = {"done": result.done, "failed": result.failed, "via": "web"}
        if action == "notify":
            detail["text"] = text[:500]
        else:
            detail["action"] = action
        self.app.audit.record(
            by,
            "case.notify" if action == "notify" else "case.enforce",
            f"case:{case.id}",
            subject=case.author_id,
            community=case.community,
            detail=detail,
        )
        return result

    def history(self, author_id: str) -> list[Case]:
        """Every case about one account, newest first (repeat offenders at a glance)."""
        rows = self.app.db.execute(
            "SELECT id FROM cases WHERE author_id = ? ORDER BY id DESC LIMIT 100", [author_id]
        ).fetchall()
        return [c for (cid,) in rows if (c := self.cases.get(cid)) is not None]

    def packet(self, case_id: int, *, by: str) -> dict[str, Any]:
        """The evidence packet for a takedown request: what, where, when, hashes, actions."""
        case = self._case(case_id)
        events = [
            {"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in self.app.audit.recent(10_000)
            if e.target == f"case:{case_id}"
        ]
        self.app.audit.record(by, "case.export", f"case:{case_id}")
        return {
            "case": case.id,
            "platform": case.platform,
            "community": case.community,
            "channel": case.channel_id,
            "message": case.message_id,
            "link": case.jump_url,
            "author": case.author_id,
            "author_name": case.author_name,
            "found_at": case.created_at,
            "verdict": case.tier,
            "matched": case.findings,
            "hashes": case.hashes,
            "action": case.action,
            "state": case.state,
            "decided_by": case.decided_by,
            "decided_at": case.decided_at,
            "history": list(reversed(events)),
            "media_included": False,
            "support": support_text(self.app.settings),
        }


def _seen_host(value: str) -> LinkRule | None:
    """The host (or path, or IP) a link finding saw; None for a brand name seen in plain text."""
    try:
        rule = parse_rule(value)
    except ValueError:
        return None
    return None if rule.kind is RuleKind.KEYWORD else rule


def packet_html(packet: dict[str, Any]) -> str:
    """The evidence packet as a plain, printable HTML page (no media, no scripts)."""
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_text(v))}</td></tr>"
        for k, v in packet.items()
        if k not in ("matched", "hashes", "history", "support")
    )
    matched = "".join(
        f"<li>{html.escape(f.get('signal', ''))}: {html.escape(str(f.get('matched', '')))}"
        f" ({html.escape(str(f.get('list') or f.get('bank') or ''))}"
        f"{', distance ' + str(f['distance']) if f.get('distance') is not None else ''})</li>"
        for f in packet["matched"]
    )
    history = "".join(
        f"<li>{html.escape(e['at'])} {html.escape(e['actor'])}: {html.escape(e['action'])}</li>"
        for e in packet["history"]
    )
    hashes = html.escape(json.dumps(packet["hashes"], indent=1))
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>Shield evidence packet, case {packet['case']}</title>"
        "<style>body{font:14px system-ui;margin:2em;max-width:60em}th{text-align:left;"
        "padding-right:1em;vertical-align:top}pre{white-space:pre-wrap}</style>"
        f"<h1>Evidence packet: case {packet['case']}</h1><table>{rows}</table>"
        f"<h2>What matched</h2><ul>{matched}</ul><h2>Hashes</h2><pre>{hashes}</pre>"
        f"<h2>History</h2><ul>{history}</ul><p>No media is included in this packet.</p>"
        f"<p>{html.escape(packet['support'])}</p></html>"
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)
