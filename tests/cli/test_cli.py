"""The `shield` command as acceptance checks and people drive it: a real process, a real database."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from bot.cli import cli
from tests.conftest import Shield


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in group.commands.items():
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, (*prefix, name)))
    return paths


@pytest.mark.parametrize("path", [(), *_command_paths(cli)], ids=lambda p: " ".join(p) or "shield")
def test_every_command_has_help(shield: Shield, path: tuple[str, ...]) -> None:
    """`--help` works on every command and says how to use it."""
    result = shield(*path, "--help")
    assert result.code == 0, result.err
    assert "Usage:" in result.out


def test_check_json_contract(shield: Shield) -> None:
    """`check --json` prints one JSON object with the documented keys; exit 0 on block."""
    result = shield("check", "--json", "see hxxps://www[.]clothoff[.]io")
    assert result.code == 0, result.err
    data = result.json()
    assert data["verdict"] == "block"
    finding = data["findings"][0]
    assert set(finding) >= {"signal", "value", "matched", "list", "tier"}
    assert (finding["matched"], finding["list"], finding["tier"]) == (
        "clothoff.io",
        "deepfake-sites",
        "block",
    )


@pytest.mark.parametrize(
    ("text", "verdict"),
    [("hello chat", "allow"), ("cl\u043ethoff.io", "review"), ("try crushai", "review")],
)
def test_check_verdicts(shield: Shield, text: str, verdict: str) -> None:
    """Clean chat is allowed; look-alikes and brands are held for review."""
    result = shield("check", "--json", text)
    assert result.code == 0 and result.json()["verdict"] == verdict


def test_check_reads_standard_input_and_prints_for_people(shield: Shield) -> None:
    """`check -` reads the message from standard input; without --json the output is readable."""
    result = shield("check", "-", stdin="go to clothoff.io")
    assert result.code == 0
    assert result.out.startswith("BLOCK")
    assert "clothoff.io" in result.out and "deepfake-sites" in result.out


LIST_FILES = {
    "hosts": "# a hosts file\n0.0.0.0 alpha-bad.com\n127.0.0.1 beta-bad.com gamma-bad.com  # trailing\n0.0.0.0 localhost\nnot a valid line here\n",
    "plain": "alpha-bad.com\n\n# comment\nbeta-bad.com\nbad..domain\ngamma-bad.com\n",
    "abp": "[Adblock Plus 2.0]\n! Title: test\n||alpha-bad.com^\n||beta-bad.com^$third-party\n||gamma-bad.com^\n##.ad-banner\n||bad..x^\n",
    "wildcard": "*.alpha-bad.com\n*.beta-bad.com\ngamma-bad.com\n*.\n",
    "dnsmasq": "local=/alpha-bad.com/\naddress=/beta-bad.com/0.0.0.0\nserver=/gamma-bad.com/\nlocal=//\n",
    "tsv": "# kind\tvalue\tcategory\ttier\tconfidence\tsource\ndomain\talpha-bad.com\tnudify-app\tblock\thigh\ttest\ndomain\tbeta-bad.com\tnudify-app\tflag\tmedium\ttest\ndomain\tgamma-bad.com\tx\tblock\tlow\ttest\nkeyword\tbadbrandname\tx\tflag\thigh\ttest\ndomain\tco.uk\tx\tblock\thigh\ttest\n",
}


@pytest.mark.parametrize("fmt", sorted(LIST_FILES))
def test_import_each_format_detected_and_idempotent(
    shield: Shield, tmp_path: Path, fmt: str
) -> None:
    """Each common format is detected; bad lines are reported with line numbers; twice adds nothing."""
    path = tmp_path / f"list.{fmt}.txt"
    path.write_text(LIST_FILES[fmt])
    first = shield("lists", "import", "--list", "t", "--tier", "block", "--json", str(path))
    assert first.code == 0, first.err
    report = first.json()
    assert report["format"] == fmt
    assert report["added"] >= 3
    assert report["bad_lines"] and all(b["line"] > 0 and b["reason"] for b in report["bad_lines"])
    second = shield("lists", "import", "--list", "t", "--tier", "block", "--json", str(path))
    assert second.json()["added"] == 0
    for domain in ("alpha-bad.com", "beta-bad.com", "gamma-bad.com"):
        verdict = shield("check", "--json", f"www.{domain}").json()["verdict"]
        assert verdict == ("review" if fmt == "tsv" and domain == "beta-bad.com" else "block")


def test_forced_format_and_review_tier(shield: Shield, tmp_path: Path) -> None:
    """--format forces the parser; --tier review holds instead of deleting."""
    path = tmp_path / "list.txt"
    path.write_text("alpha-bad.com\n")
    result = shield(
        "lists", "import", "--list", "r", "--tier", "review", "--format", "plain", str(path)
    )
    assert result.code == 0 and "1 new" in result.out
    assert shield("check", "--json", "alpha-bad.com").json()["verdict"] == "review"


def test_add_show_disable_remove(shield: Shield) -> None:
    """Rules can be added in any syntax, shown with provenance, disabled and removed."""
    assert (
        shield(
            "lists",
            "add",
            "--list",
            "mine",
            "||evil-one.com^",
            "t.me/badchan",
            "keyword:foobarbrand",
        ).code
        == 0
    )
    assert shield("check", "--json", "https://t.me/badchan/5").json()["verdict"] == "block"
    shown = shield("lists", "show", "mine", "--json").json()
    assert {r["value"] for r in shown["rules"]} == {"evil-one.com", "t.me/badchan", "foobarbrand"}
    assert all(r["added_by"].startswith("cli:") for r in shown["rules"])
    assert shield("lists", "disable", "mine", "evil-one.com").code == 0
    assert shield("check", "--json", "evil-one.com").json()["verdict"] == "allow"
    assert shield("lists", "remove", "--list", "mine", "t.me/badchan").code == 0
    assert shield("check", "--json", "t.me/badchan").json()["verdict"] == "allow"
    names = {entry["name"] for entry in shield("lists", "show", "--json").json()}
    assert names == {"deepfake-sites", "platform-allow", "mine"}
    actions = [e["action"] for e in shield("audit", "--json").json()]
    assert {"list.add", "list.remove", "list.rule-disable"} <= set(actions)


def test_allow_list_entry_wins(shield: Shield) -> None:
    """Adding a domain to an allow list stops every action on it."""
    shield("lists", "add", "--list", "careless", "example-site.com")
    assert shield("check", "--json", "example-site.com").json()["verdict"] == "block"
    shield("lists", "add", "--list", "ours", "--tier", "allow", "example-site.com")
    assert shield("check", "--json", "example-site.com").json()["verdict"] == "allow"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("lists", "import", "--list", "x", "--tier", "block", "/nonexistent/list.txt"),
            "does not exist",
        ),
        (("lists", "import", "--list", "x", "--tier", "sometimes", "f"), "sometimes"),
        (("lists", "add", "--list", "x", "co.uk"), "public suffix"),
        (("lists", "remove", "--list", "nolist", "a.com"), "no list called"),
        (("lists", "show", "nolist"), "no list called"),
        (("nonsense-command",), "No such command"),
        (("check",), "give the message"),
        (("community", "set", "streamer", "dry_run", "true"), "not valid"),
    ],
)
def test_errors_are_one_line_without_traceback(
    shield: Shield, args: tuple[str, ...], message: str
) -> None:
    """Bad usage or input exits non-zero with one line on standard error that says what to do."""
    result = shield(*args, stdin="")
    assert result.code != 0
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("shield: error:") and message in lines[0]
    assert "Traceback" not in result.err


def test_bad_config_names_the_key(shield: Shield, tmp_path: Path) -> None:
    """A typo in the user's settings file is one line naming the key."""
    config = tmp_path / "bad.toml"
    config.write_text("[links]\nlookalike = true\n")
    result = shield("--config", str(config), "check", "x")
    assert (
        result.code != 0 and "links.lookalike" in result.err and len(result.err.splitlines()) == 1
    )
    via_env = shield("check", "x", env={"SHIELD_CONFIG": str(config)})
    assert via_env.code != 0 and "links.lookalike" in via_env.err


def test_unreadable_database_is_one_line(shield: Shield, tmp_path: Path) -> None:
    """A database path that is not a database is a clear error."""
    bogus = tmp_path / "bogus.db"
    bogus.write_text("hello " * 1000)
    result = shield("check", "x", db=bogus)
    assert result.code != 0 and "bogus.db" in result.err and len(result.err.splitlines()) == 1


def test_delete_user_data(shield: Shield) -> None:
    """delete-user-data redacts a user's identifier and reports how many rows changed."""
    shield("community", "set", "discord:111", "dry_run", "true")
    result = shield("delete-user-data", "--json", "cli:nobody-at-all")
    assert result.code == 0 and result.json()["rows"] == {}


def test_demo_runs_the_live_scene(shield: Shield, tmp_path: Path) -> None:
    """`shield demo --fast` runs the real bot against the local Discord and Twitch: the trolls'
    posts are deleted, the look-alike held, ordinary chat left alone, and nothing is left behind."""
    result = shield("demo", "--fast")
    assert result.code == 0, result.err
    assert result.out.count("deleted in") >= 9, result.out
    assert "held for review" in result.out and "where to report" in result.out
    assert result.out.count("left alone") == 2, result.out
    assert not (tmp_path / "shield.db").exists()


def test_text_only_demo(shield: Shield) -> None:
    """`shield demo --text-only` shows the link scanner alone, without the sandbox."""
    result = shield("demo", "--fast", "--text-only")
    assert result.code == 0, result.err
    assert result.out.count("BLOCK") >= 5 and "REVIEW" in result.out
