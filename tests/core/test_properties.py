"""Properties over arbitrary text: extraction never raises, normalisation is idempotent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.extract import extract_links
from bot.core.normalise import normalise
from bot.core.scanner import LinkScanner
from tests.conftest import make_scanner

SCANNER: LinkScanner = make_scanner()

# Text biased towards the characters that matter: dots, brackets, markdown, escapes, invisibles.
_pieces = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=4),
    st.sampled_from(list("./:@%[](){}<>|*`~_\\ -\u200b\u3002\uff0e")),
    st.sampled_from([" dot ", "hxxp", "https://", "clothoff", ".io", "xn--", "%2e", "[.]"]),
)
chat_text = st.lists(_pieces, max_size=60).map("".join)


@given(chat_text)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_normalise_is_idempotent(text: str) -> None:
    """Normalising twice gives the same text as normalising once."""
    once = normalise(text)
    assert normalise(once) == once


@given(chat_text)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_extractor_never_raises(text: str) -> None:
    """Any text, however hostile, gives a list of links (maybe empty), never an exception."""
    links = extract_links(normalise(text))
    assert all(link.host and link.host == link.host.lower() for link in links)


@given(chat_text)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_scanner_never_raises_and_is_deterministic(text: str) -> None:
    """Scanning arbitrary text returns a verdict, the same one every time."""
    first = SCANNER.scan(text)
    assert first.verdict in ("block", "review", "allow")
    assert SCANNER.scan(text) == first


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20))
def test_listed_domain_is_found_whatever_surrounds_it(prefix: str) -> None:
    """A listed domain is found after any word and a space."""
    assert SCANNER.scan(f"{prefix} clothoff.io").verdict == "block"


def test_very_long_message_is_bounded() -> None:
    """A hostile 1 MB message is cut to the configured size and still scanned."""
    result = SCANNER.scan("clothoff.io " + "a." * 500_000)
    assert result.verdict == "block"
