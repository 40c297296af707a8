"""Slack markup to plain text and back; quick replies as Block Kit buttons."""

from __future__ import annotations

from channels.slack.markup import QUICK_REPLY_ACTION, from_plain, quick_reply_blocks, to_plain
from gateway.models import QuickReply


def test_mentions_links_and_escapes_become_plain_text() -> None:
    text = (
        "<@U0BOT> hi <@U0BOB> see <#C0GEN|general>, <https://x.example/a|the doc> &amp; "
        "<mailto:a@b.c|a@b.c> <!here>"
    )
    assert to_plain(text, {"U0BOB": "Bob"}, drop_user="U0BOT") == (
        "hi @Bob see #general, the doc (https://x.example/a) & a@b.c @here"
    )
    assert to_plain("1 &lt; 2 &gt; 0 <https://bare.example>") == "1 < 2 > 0 https://bare.example"
    assert to_plain("<@U0UNKNOWN>") == "@U0UNKNOWN"


def test_what_we_post_cannot_become_a_mention() -> None:
    assert from_plain("a <@U0BOSS> & <!channel>") == "a &lt;@U0BOSS&gt; &amp; &lt;!channel&gt;"
    assert (
        from_plain("**Reset** via [the page](https://x.example/r)")
        == "*Reset* via <https://x.example/r|the page>"
    )


def test_quick_replies_are_buttons_with_their_ids() -> None:
    blocks = quick_reply_blocks(
        "Did it help?", (QuickReply("solved", "Yes"), QuickReply("handoff", "A person"))
    )
    assert blocks[0]["text"]["text"] == "Did it help?"
    elements = blocks[1]["elements"]
    assert [(e["text"]["text"], e["value"]) for e in elements] == [("Yes", "solved"), ("A person", "handoff")]
    assert all(e["action_id"].startswith(QUICK_REPLY_ACTION) for e in elements)
    assert len({e["action_id"] for e in elements}) == 2  # unique within the block, as Slack requires
