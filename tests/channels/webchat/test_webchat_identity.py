"""Identity verification: a host site's logged-in user, proven by an HMAC of their
user id, is one visitor on every device; an unproven claim is anonymous."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from channels.webchat.token import IdentityVerifier, identity_claim, is_verified_visitor_id, user_hash
from gateway.config import Settings

IDENTITY_SECRET = "host-site-shared-secret"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.webchat.identity_secret = IDENTITY_SECRET
    return settings


def proof(user_id: str, secret: str = IDENTITY_SECRET) -> dict[str, str]:
    return {"user_id": user_id, "user_hash": user_hash(secret, user_id)}


async def closed_with(ws: aiohttp.ClientWebSocketResponse, chat: Any) -> tuple[dict[str, Any], int | None]:
    error = await chat.recv(ws)
    msg = await ws.receive(timeout=2.0)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    return error, ws.close_code


async def test_a_verified_user_is_the_same_visitor_on_every_device(chat: Any, core: Any) -> None:
    laptop, first = await chat.greet(None, name="Ada", **proof("42"))
    assert first["verified"] is True and is_verified_visitor_id(first["visitor_id"])
    await chat.say(laptop, "m-1", "My invoice is wrong")
    phone, second = await chat.greet(None, **proof("42"))  # another device: no token
    assert second["visitor_id"] == first["visitor_id"]
    assert second["conversation_id"] == core.conversations[first["visitor_id"]]
    assert [m["text"] for m in second["history"]] == ["My invoice is wrong"]
    await chat.say(phone, "m-2", "Any news?")
    senders = {(i.sender.channel, i.sender.address) for i in core.inbounds}
    assert senders == {("webchat", "user:42")}  # one identity: the host site's user
    assert {i.thread_key for i in core.inbounds} == {first["visitor_id"]}


async def test_a_wrong_hash_or_no_secret_means_anonymous(chat: Any, core: Any, settings: Settings) -> None:
    _ws, victim = await chat.greet(None, **proof("42"))
    _ws2, forged = await chat.greet(None, user_id="42", user_hash="0" * 64)
    assert forged["verified"] is False and forged["visitor_id"] != victim["visitor_id"]
    assert not is_verified_visitor_id(forged["visitor_id"]) and forged["history"] == []
    _ws3, other_secret = await chat.greet(None, **proof("42", secret="someone else's secret"))
    assert other_secret["verified"] is False and other_secret["visitor_id"] != victim["visitor_id"]
    _ws4, no_hash = await chat.greet(None, user_id="42")
    assert no_hash["verified"] is False
    settings.webchat.identity_secret = ""  # verification off: even a right hash proves nothing
    _ws5, off = await chat.greet(None, **proof("42"))
    assert off["verified"] is False and off["visitor_id"] != victim["visitor_id"]


async def test_a_verified_token_without_the_proof_is_refused(chat: Any) -> None:
    _ws, welcome = await chat.greet(None, **proof("42"))
    ws = await chat.connect()
    await ws.send_json({"type": "hello", "token": welcome["token"]})  # logged out on the host site
    error, code = await closed_with(ws, chat)
    assert error["code"] == "invalid_token" and code == 4401
    ws = await chat.connect()
    await ws.send_json({"type": "hello", "token": welcome["token"], **proof("43")})  # another user
    error, code = await closed_with(ws, chat)
    assert error["code"] == "invalid_token" and code == 4401
    _ws, again = await chat.greet(welcome["token"], **proof("42"))  # the same user: resumes
    assert again["visitor_id"] == welcome["visitor_id"] and again["verified"] is True


async def test_an_anonymous_visitor_who_logs_in_becomes_the_user(chat: Any) -> None:
    _ws, anonymous = await chat.greet(None)
    _ws2, logged_in = await chat.greet(anonymous["token"], **proof("42"))
    assert logged_in["verified"] is True and logged_in["visitor_id"] != anonymous["visitor_id"]
    _ws3, elsewhere = await chat.greet(None, **proof("42"))
    assert elsewhere["visitor_id"] == logged_in["visitor_id"]


@pytest.mark.parametrize("claim", [
    {"user_id": "", "user_hash": "a" * 64}, {"user_id": "x\n", "user_hash": "a" * 64},
    {"user_id": "x" * 201, "user_hash": "a" * 64}, {"user_id": ["42"]}, {"user_id": True},
])
def test_malformed_claims_prove_nothing(claim: dict[str, Any]) -> None:
    parsed = identity_claim(claim)
    verifier = IdentityVerifier(IDENTITY_SECRET, b"server-secret")
    assert parsed is None or verifier.verify(parsed) is None


def test_numeric_user_ids_and_upper_case_hashes_are_accepted() -> None:
    verifier = IdentityVerifier(IDENTITY_SECRET, b"server-secret")
    claim = identity_claim({"user_id": 42, "user_hash": user_hash(IDENTITY_SECRET, "42").upper()})
    assert claim is not None and verifier.verify(claim) == verifier.visitor_id("42")
    assert verifier.visitor_id("42") != IdentityVerifier(IDENTITY_SECRET, b"other").visitor_id("42")
