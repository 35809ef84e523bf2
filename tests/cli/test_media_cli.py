"""`shield hash`, `shield bank ...` and `shield scan` as people and acceptance checks run them:
a real process, a real database, pictures and videos generated here, links on a local server."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from aiohttp import web
from PIL import Image

from tests.conftest import Result, Shield

# ----- generated media -----------------------------------------------------------------------


def picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A smooth random picture: enough structure for PDQ, and distinct for every seed."""
    rng = np.random.default_rng(seed)
    small = (rng.random((12, 16, 3)) * 255).astype(np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def save(image: Image.Image, path: Path, fmt: str = "PNG", **options: Any) -> Path:
    image.save(path, fmt, **options)
    return path


def edited_copy(image: Image.Image, path: Path) -> Path:
    """What a re-poster does: half the size, mirrored, re-encoded as a lossy JPEG."""
    smaller = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    return save(smaller.transpose(Image.Transpose.FLIP_LEFT_RIGHT), path, "JPEG", quality=70)


def video(path: Path, seeds: tuple[int, ...], fps: int = 5) -> Path:
    """An MP4 showing one picture per second."""
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for seed in seeds:
            pixels = np.asarray(picture(seed, (320, 240)))
            for _ in range(fps):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                for packet in stream.encode(frame):
                    output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return path


def flip_bits(value: str, n: int, seed: int = 5) -> str:
    bits = len(value) * 4
    mask = sum(1 << i for i in random.Random(seed).sample(range(bits), n))
    return f"{int(value, 16) ^ mask:0{bits // 4}x}"


# ----- helpers -------------------------------------------------------------------------------


def ok_json(result: Result) -> Any:
    assert result.code == 0, result.err
    return result.json()


def ok(result: Result) -> Result:
    assert result.code == 0, result.err
    return result


def one_line_error(result: Result) -> str:
    """The CLI failed the way it promises: non-zero, one line on stderr, no traceback."""
    assert result.code != 0
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("shield: error: ")
    return lines[0]


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return save(picture(1), tmp_path / "photo.png")


# ----- shield hash ---------------------------------------------------------------------------


def test_hash_image_prints_every_hash(shield: Shield, photo: Path) -> None:
    """JSON has MD5, SHA-256 and, per frame, PDQ with quality, 8 dihedral variants and pHash."""
    data = ok_json(shield("hash", "--json", str(photo)))
    assert data["file"] == "photo.png" and data["kind"] == "png"
    assert len(data["md5"]) == 32 and len(data["sha256"]) == 64
    (frame,) = data["frames"]
    assert len(frame["pdq"]) == 64 and len(frame["phash"]) == 16
    assert frame["pdq_quality"] >= 50
    assert frame["dihedral"][0] == frame["pdq"] and len(frame["dihedral"]) == 8
    text = shield("hash", str(photo))
    assert text.code == 0
    assert frame["pdq"] in text.out and data["sha256"] in text.out


def test_hash_video_per_frame(shield: Shield, tmp_path: Path) -> None:
    """A video is hashed per sampled frame, each with its time."""
    clip = video(tmp_path / "clip.mp4", (1, 2, 3))
    data = ok_json(shield("hash", "--json", str(clip)))
    assert data["kind"] == "mp4"
    frames = [f for f in data["frames"] if f["variant"] == "raw"]
    assert len(frames) >= 3
    assert [f["timestamp"] for f in frames] == sorted(f["timestamp"] for f in frames)
    assert len({f["pdq"] for f in frames}) >= 3
    text = shield("hash", str(clip)).out
    assert "frame 0 at 0 s" in text and " at 2 s" in text


# ----- bank add and scan ---------------------------------------------------------------------


def test_bank_add_then_scan_an_edited_copy_blocks(
    shield: Shield, tmp_path: Path, photo: Path
) -> None:
    """A resized, mirrored, re-encoded copy of a banked picture is blocked, with its distance."""
    added = ok_json(shield("bank", "add", "--bank", "vault", "--json", str(photo)))
    assert added["bank"] == "vault" and added["tier"] == "block" and added["added"] >= 4
    copy = edited_copy(picture(1), tmp_path / "copy.jpg")
    data = ok_json(shield("scan", "--json", str(copy)))
    assert data["verdict"] == "block"
    finding = data["findings"][0]
    assert finding["signal"] == "pdq" and finding["bank"] == "vault"
    assert finding["tier"] == "block" and 0 <= finding["distance"] <= 31
    assert len(finding["value"]) == len(finding["matched"]) == 64
    assert set(finding) >= {"signal", "value", "matched", "bank", "distance", "tier"}
    text = shield("scan", str(copy))
    assert text.code == 0 and text.out.startswith("BLOCK")


def test_bank_add_is_idempotent_and_stores_no_media(
    shield: Shield, tmp_path: Path, photo: Path
) -> None:
    """Adding the same file twice adds nothing; the bank holds hashes and the file name only."""
    ok_json(shield("bank", "add", "--bank", "vault", "--json", str(photo)))
    again = ok_json(shield("bank", "add", "--bank", "vault", "--json", str(photo)))
    assert again["added"] == 0 and again["existing"] >= 4
    shown = ok_json(shield("bank", "show", "vault", "--json"))
    assert {e["signal_type"] for e in shown["entries"]} == {"pdq", "phash", "md5", "sha256"}
    assert {e["item"] for e in shown["entries"]} == {"photo.png"}
    assert {e["source"] for e in shown["entries"]} == {"shield bank add"}
    assert b"\x89PNG" not in (tmp_path / "shield.db").read_bytes()


def test_distinct_picture_is_allowed(shield: Shield, tmp_path: Path, photo: Path) -> None:
    """A different picture matches nothing: verdict allow, no findings."""
    ok(shield("bank", "add", "--bank", "vault", str(photo)))
    other = save(picture(99), tmp_path / "other.png")
    assert ok_json(shield("scan", "--json", str(other))) == {"verdict": "allow", "findings": []}


def test_scan_of_a_video_frame(shield: Shield, tmp_path: Path) -> None:
    """A video containing a banked picture for a second is blocked on that frame."""
    ok(shield("bank", "add", "--bank", "vault", str(save(picture(2), tmp_path / "p.png"))))
    data = ok_json(shield("scan", "--json", str(video(tmp_path / "clip.mp4", (7, 2, 8)))))
    assert data["verdict"] == "block"
    assert "at 1 s" in data["findings"][0]["note"]


def test_review_band(shield: Shield, tmp_path: Path, photo: Path) -> None:
    """A PDQ entry 40 bits away (between 31 and pdq_review_distance 48) is held for review."""
    pdq = ok_json(shield("hash", "--json", str(photo)))["frames"][0]["pdq"]
    hashes = tmp_path / "near.txt"
    hashes.write_text(flip_bits(pdq, 40) + "\n")
    ok_json(shield("bank", "import", "--bank", "near", "--format", "pdq", "--json", str(hashes)))
    data = ok_json(shield("scan", "--json", str(photo)))
    assert data["verdict"] == "review"
    assert [(f["distance"], f["tier"], f["bank"]) for f in data["findings"]] == [
        (40, "review", "near")
    ]


def test_allow_bank_suppresses(shield: Shield, photo: Path) -> None:
    """A picture in an allow bank is allowed even though a block bank holds it too."""
    ok(shield("bank", "add", "--bank", "vault", str(photo)))
    ok(shield("bank", "add", "--bank", "known-good", "--tier", "allow", str(photo)))
    assert ok_json(shield("scan", "--json", str(photo))) == {"verdict": "allow", "findings": []}
    assert "allowed" in shield("scan", str(photo)).out


def test_disable_entry_stops_matching(shield: Shield, tmp_path: Path, photo: Path) -> None:
    """Disabling the PDQ entry (by hash value) stops the match; enabling it (by id) restores it."""
    ok(shield("bank", "add", "--bank", "vault", str(photo)))
    copy = edited_copy(picture(1), tmp_path / "copy.jpg")
    assert ok_json(shield("scan", "--json", str(copy)))["verdict"] == "block"
    entries = ok_json(shield("bank", "show", "vault", "--json"))["entries"]
    (pdq,) = [e for e in entries if e["signal_type"] == "pdq"]
    off = shield("bank", "disable", pdq["signal_value"])
    assert off.code == 0 and f"entry {pdq['id']}" in off.out
    assert ok_json(shield("scan", "--json", str(copy)))["verdict"] == "allow"
    shown = ok_json(shield("bank", "show", "vault", "--json"))["entries"]
    assert [e["enabled"] for e in shown if e["id"] == pdq["id"]] == [False]  # kept, not deleted
    assert shield("bank", "enable", str(pdq["id"])).code == 0
    assert ok_json(shield("scan", "--json", str(copy)))["verdict"] == "block"


def test_disable_a_whole_bank(shield: Shield, photo: Path) -> None:
    """`bank disable --bank NAME` alone stops the whole bank."""
    ok(shield("bank", "add", "--bank", "vault", str(photo)))
    assert shield("bank", "disable", "--bank", "vault").code == 0
    assert ok_json(shield("scan", "--json", str(photo)))["verdict"] == "allow"
    (bank,) = ok_json(shield("bank", "show", "--json"))
    assert bank["enabled"] is False and bank["entries"] == 4


# ----- import and export ---------------------------------------------------------------------

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
PDQ_B = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
PHASH_A = "d1d1f1e0e4a4b0b1"


@pytest.mark.parametrize(
    ("fmt", "text", "added", "bad_lines"),
    [
        (
            "pdq",
            f"# my hashes\n{PDQ_A}\n\nnot-a-hash\n{PDQ_B.upper()}  # caps are fine\n"
            f"{PDQ_A}\n{PDQ_A[:-1]}z\n",
            2,
            [4, 7],
        ),
        ("phash", f"{PHASH_A}\n{PHASH_A}00\n0000000000000001\n", 2, [2]),
        (
            "hma-csv",
            "signal_type,signal_value,note\n"
            f"pdq,{PDQ_A},from HMA\n"
            "url,https://example.com/x,other types are not matched\n"
            f"video_md5,9e107d9d372bb6826bd81d3542a419d6,\n"
            f"pdq,{PDQ_B[:10]},too short\n"
            f"phash,{PHASH_A},\n",
            3,
            [5],
        ),
        ("auto", f"{PDQ_A}\n{PHASH_A}\n", 1, [2]),
        ("auto", f"signal_type,signal_value\nsha256,{'ab' * 32}\nmd5,xyz\n", 1, [3]),
    ],
)
def test_import_formats_report_bad_lines(
    shield: Shield, tmp_path: Path, fmt: str, text: str, added: int, bad_lines: list[int]
) -> None:
    """Each format imports its good lines; bad ones are reported by line number, not fatal;
    importing the same file again adds nothing."""
    file = tmp_path / "hashes.txt"
    file.write_text(text)
    args = ("bank", "import", "--bank", "shared", "--format", fmt, "--json", str(file))
    report = ok_json(shield(*args))
    assert report["added"] == added
    assert [b["line"] for b in report["bad_lines"]] == bad_lines
    assert all(b["reason"] for b in report["bad_lines"])
    again = ok_json(shield(*args))
    assert (again["added"], again["existing"]) == (0, added)
    human = shield(*args[:-2], str(file))
    assert human.code == 0 and f"line {bad_lines[0]}:" in human.out


def test_import_reports_invalid_hex_clearly(shield: Shield, tmp_path: Path) -> None:
    """A hash with a non-hex digit is named with its position."""
    file = tmp_path / "bad.txt"
    file.write_text("g" + PDQ_A[1:] + "\n")
    report = ok_json(
        shield("bank", "import", "--bank", "b", "--format", "pdq", "--json", str(file))
    )
    (bad,) = report["bad_lines"]
    assert bad["line"] == 1 and "hexadecimal" in bad["reason"] and "'g'" in bad["reason"]


def test_import_of_an_unknown_format_is_one_line_error(shield: Shield, tmp_path: Path) -> None:
    """`--format auto` on something that is no hash list fails clearly, before touching banks."""
    file = tmp_path / "notes.txt"
    file.write_text("hello there\n")
    message = one_line_error(shield("bank", "import", "--bank", "b", str(file)))
    assert "--format" in message
    assert ok_json(shield("bank", "show", "--json")) == []


def test_export_import_round_trip(shield: Shield, tmp_path: Path, photo: Path) -> None:
    """An export imported into another bank reproduces every entry, disabled ones too."""
    ok(shield("bank", "add", "--bank", "vault", str(photo)))
    hashes = tmp_path / "more.txt"
    hashes.write_text(f"{PDQ_A}\n{PDQ_B}\n")
    ok_json(shield("bank", "import", "--bank", "vault", "--format", "pdq", "--json", str(hashes)))
    assert shield("bank", "disable", PDQ_B).code == 0
    out = tmp_path / "vault.csv"
    assert shield("bank", "export", "--bank", "vault", "--output", str(out)).code == 0
    stdout = shield("bank", "export", "--bank", "vault")
    assert stdout.code == 0 and stdout.out == out.read_text()
    assert out.read_text().startswith("signal_type,signal_value,")
    assert out.stat().st_mode & 0o077 == 0  # hash lists are sensitive: owner-only
    report = ok_json(shield("bank", "import", "--bank", "copy", "--json", str(out)))
    assert (report["format"], report["added"], report["bad_lines"]) == ("hma-csv", 6, [])

    def rows(name: str) -> set[tuple[Any, ...]]:
        entries = ok_json(shield("bank", "show", name, "--json"))["entries"]
        keys = ("signal_type", "signal_value", "item", "frame", "quality", "enabled", "note")
        return {tuple(e[k] for k in keys) for e in entries}

    assert rows("vault") == rows("copy")


# ----- links ---------------------------------------------------------------------------------


async def test_scan_url_from_a_local_server(shield: Shield, tmp_path: Path, photo: Path) -> None:
    """`scan URL` downloads through SafeFetcher (private addresses allowed by the test config)."""
    ok(shield("bank", "add", "--bank", "vault", str(photo)))
    copy = edited_copy(picture(1), tmp_path / "copy.jpg").read_bytes()

    async def image(_: web.Request) -> web.Response:
        return web.Response(body=copy, content_type="image/jpeg")

    async def page(_: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><p>hi</p>" * 20, content_type="text/html")

    server = web.Application()
    server.add_routes([web.get("/img", image), web.get("/page", page)])
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    config = tmp_path / "test.toml"
    config.write_text("[fetch]\nallow_private_addresses = true\n")
    try:
        found = await _shield_async(tmp_path, config, f"http://127.0.0.1:{port}/img")
        missed = await _shield_async(tmp_path, config, f"http://127.0.0.1:{port}/page")
    finally:
        await runner.cleanup()
    data = ok_json(found)
    assert data["verdict"] == "block" and data["findings"][0]["bank"] == "vault"
    html = ok_json(missed)
    assert html["verdict"] == "unscannable" and "HTML" in html["reason"]


async def _shield_async(tmp_path: Path, config: Path, url: str) -> Result:
    """Run `shield scan --json URL` without blocking the loop that serves the URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIELD_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--db",
        str(tmp_path / "shield.db"),
        "--config",
        str(config),
        "scan",
        "--json",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return Result(process.returncode or 0, out.decode(), err.decode())


def test_private_urls_are_refused_by_default(shield: Shield) -> None:
    """Without the test setting, a link to this machine is not fetched: unscannable, exit 0."""
    data = ok_json(shield("scan", "--json", "http://127.0.0.1:9/x.jpg"))
    assert data["verdict"] == "unscannable" and "private" in data["reason"]


# ----- files that cannot be scanned, and mistakes --------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (lambda: _jpeg_bytes()[:400], "truncated"),
        (lambda: b"GIF89a" + b"\x00" * 10, ""),
        (lambda: b"just some text, not a picture\n" * 10, "not"),
    ],
    ids=["truncated", "broken-gif", "wrong-magic"],
)
def test_unscannable_file(shield: Shield, tmp_path: Path, content: Any, reason: str) -> None:
    """A file that cannot be decoded gives verdict unscannable with a reason, exit 0."""
    file = tmp_path / "x.jpg"
    file.write_bytes(content())
    data = ok_json(shield("scan", "--json", str(file)))
    assert data["verdict"] == "unscannable" and data["findings"] == []
    assert data["reason"] and reason in data["reason"]
    text = shield("scan", str(file))
    assert text.code == 0 and text.out.startswith("UNSCANNABLE")


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    picture(3).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_known_file_matches_even_when_unscannable(shield: Shield, tmp_path: Path) -> None:
    """A banked file Shield cannot decode still matches by its exact hashes."""
    file = tmp_path / "odd.bin"
    file.write_bytes(b"not media at all" * 10)
    added = ok_json(shield("bank", "add", "--bank", "vault", "--json", str(file)))
    assert added["files"][0]["reason"]
    data = ok_json(shield("scan", "--json", str(file)))
    assert data["verdict"] == "block"
    assert {f["signal"] for f in data["findings"]} == {"md5", "sha256"}
    assert data["reason"]


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "missing.jpg"),
        ("scan", "--json", "missing.jpg"),
        ("hash", "missing.jpg"),
        ("bank", "add", "--bank", "vault", "missing.jpg"),
        ("bank", "import", "--bank", "vault", "missing.txt"),
    ],
)
def test_missing_file_is_a_one_line_error(shield: Shield, args: tuple[str, ...]) -> None:
    """A file that does not exist: non-zero exit, one line naming it, no traceback."""
    message = one_line_error(shield(*args))
    assert "missing." in message and "does not exist" in message


def test_invalid_entry_is_rejected(shield: Shield, photo: Path) -> None:
    """ENTRY must be an id or a hex hash; anything else is a clear one-line error."""
    ok(shield("bank", "add", "--bank", "vault", str(photo)))
    message = one_line_error(shield("bank", "disable", "zz" * 32))
    assert "hex" in message
    assert "no bank entry" in one_line_error(shield("bank", "disable", "ab" * 32))
    assert "no bank" in one_line_error(shield("bank", "show", "nope"))


def test_bad_usage_exits_non_zero(shield: Shield, photo: Path) -> None:
    """Usage mistakes are one-line errors too: unknown tier, changing a bank's tier."""
    bad_tier = shield("bank", "add", "--bank", "v", "--tier", "maybe", str(photo))
    assert bad_tier.code == 2 and "Traceback" not in bad_tier.err
    ok_json(shield("bank", "add", "--bank", "vault", "--json", str(photo)))
    message = one_line_error(
        shield("bank", "add", "--bank", "vault", "--tier", "allow", str(photo))
    )
    assert "block bank" in message


def test_bank_show_lists_banks(shield: Shield, photo: Path) -> None:
    """`bank show` lists banks with counts per signal and their thresholds."""
    args = ("bank", "add", "--bank", "vault", "--pdq-distance", "20", "--json", str(photo))
    ok_json(shield(*args))
    (bank,) = ok_json(shield("bank", "show", "--json"))
    assert bank["by_signal"] == {"md5": 1, "pdq": 1, "phash": 1, "sha256": 1}
    assert (bank["pdq_distance"], bank["phash_distance"], bank["tier"]) == (20, None, "block")
    assert json.dumps(bank)  # plain JSON types
    assert "vault" in shield("bank", "show").out
