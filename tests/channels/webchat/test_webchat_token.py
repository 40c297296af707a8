"""Visitor tokens: a visitor keeps their id across reloads, nobody can forge one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from channels.webchat.token import ExpiredToken, InvalidToken, TokenSigner, new_visitor_id
from gateway.clock import FakeClock

TTL = timedelta(days=30)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def signer(clock: FakeClock) -> TokenSigner:
    return TokenSigner(b"server-secret", clock, TTL)


def test_issued_token_verifies_to_the_same_visitor(signer: TokenSigner) -> None:
    token, issued = signer.issue()
    assert signer.verify(token) == issued
    again, _ = signer.issue(issued.visitor_id)
    assert signer.verify(again).visitor_id == issued.visitor_id


def test_new_visitors_get_distinct_url_safe_ids(signer: TokenSigner) -> None:
    ids = {signer.issue()[1].visitor_id for _ in range(50)}
    assert len(ids) == 50
    assert all(len(v) >= 20 and set(v) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for v in ids)


def test_token_with_another_visitor_id_is_refused(signer: TokenSigner) -> None:
    token, _ = signer.issue("visitor-aaaaaaaa")
    forged = token.replace("visitor-aaaaaaaa", "visitor-bbbbbbbb")
    with pytest.raises(InvalidToken):
        signer.verify(forged)


def test_token_with_a_younger_issue_time_is_refused(signer: TokenSigner) -> None:
    token, _ = signer.issue()
    version, vid, issued, sig = token.split(".")
    with pytest.raises(InvalidToken):
        signer.verify(".".join([version, vid, str(int(issued) + 86400), sig]))


def test_token_signed_with_another_secret_is_refused(clock: FakeClock) -> None:
    token, _ = TokenSigner(b"someone-else", clock, TTL).issue()
    with pytest.raises(InvalidToken):
        TokenSigner(b"server-secret", clock, TTL).verify(token)


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "v1.x.1.y", "v2.visitor-aaaaaaaa.1767603600.sig", "v1..1.sig",
     "v1.visitor-aaaaaaaa.notanumber.sig", "v1.visitor-aaaaaaaa.99999999999999.sig",
     "v1.visitor-aaaaaaaa.1.sig.extra", "é" * 10, "x" * 5000],
)
def test_malformed_tokens_are_invalid_not_crashes(signer: TokenSigner, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        signer.verify(garbage)


def test_token_expires_after_its_lifetime(signer: TokenSigner, clock: FakeClock) -> None:
    token, _ = signer.issue()
    clock.advance(days=29, hours=23)
    assert signer.verify(token)
    clock.advance(hours=2)
    with pytest.raises(ExpiredToken) as info:
        signer.verify(token)
    assert info.value.code == "token_expired"


def test_forgery_is_reported_as_invalid_even_when_old(
    signer: TokenSigner, clock: FakeClock
) -> None:
    token, _ = signer.issue()
    clock.advance(days=365)
    with pytest.raises(InvalidToken) as info:
        signer.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert info.value.code == "invalid_token"


def test_empty_secret_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        TokenSigner(b"", clock, TTL)


def test_new_visitor_id_is_random() -> None:
    assert new_visitor_id() != new_visitor_id()
