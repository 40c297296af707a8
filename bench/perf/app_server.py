"""Guichet itself for the web bench: ``gateway.app.create_app`` served in its own
process, on a temporary SQLite data dir, configured as ``guichet serve`` runs it.

Run as ``python -m bench.perf.app_server --data-dir DIR --retriever stub|<embedder>
[--index-dir DIR]``; prints ``READY <port>``.  With a real retriever the index is
built first if missing, as ``guichet serve --index-if-missing`` builds it (with the
term bridge of ``kb.term_bridge``), so the app serves what production serves.
Two bench-only settings, both printed in the report:

* ``bot.answer_threshold = 0``: every question is answered from the KB, so each
  message takes the full path (route job, retrieval, bot message, send job) and the
  conversation never goes to a human (the bot would then stay silent);
* the web chat's per-connection rate limit (20 messages / 10 s) is lifted so one
  visitor can send back to back; the limit is still checked on every message.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bench.perf.options import DEFAULT_KB
from bench.perf.serving import serve_until_stopped
from gateway import event_loop
from gateway.config import Settings
from gateway.protocols import Hit, Retriever, SearchResult

STUB_ANSWER = Hit(
    article_id="password-reset", title="Reset a forgotten password",
    answer="Open the sign-in page, click **Forgot password?** and follow the link we email you.",
    score=0.9, lang="en", matched="How do I reset my password?",
)
UNLIMITED_RATE = (1_000_000_000, 1.0)


class StubRetriever:
    """Answers every question with one article at full confidence, at once: the
    web figure then measures the gateway, not the model."""

    async def search(self, text: str, k: int = 5) -> SearchResult:
        return SearchResult((STUB_ANSWER,), 1.0, "stub", {"status": "ok"})


def bench_settings(data_dir: Path, retriever: str, kb_dir: Path, index_dir: Path | None = None) -> Settings:
    settings = Settings()
    settings.server.data_dir = str(data_dir)
    if index_dir is not None:
        settings.kb.index_dir = str(index_dir)
    settings.server.secret_key = "bench-secret-key"
    settings.kb.source_dir = str(kb_dir)
    settings.kb.embedder = "hash" if retriever == "stub" else retriever
    settings.bot.answer_threshold = 0.0
    return settings


async def run(data_dir: Path, retriever_kind: str, kb_dir: Path, index_dir: Path | None = None) -> None:
    from gateway.app import create_app
    from gateway.web.keys import CHANNELS

    settings = bench_settings(data_dir, retriever_kind, kb_dir, index_dir)
    retriever: Retriever | None = None
    if retriever_kind == "stub":
        retriever = StubRetriever()
    else:
        from kb_index import build_index, current_version, make_embedder
        from kb_index.embedder import make_term_encoder

        if current_version(settings.index_path) is None:
            embedder = make_embedder(settings.kb.embedder, settings.kb.model, settings.kb.threads)
            build_index(settings.kb.source_dir, settings.index_path, embedder, progress=False,
                        terms=make_term_encoder(settings.kb.term_bridge))
    app = create_app(settings, retriever=retriever)
    webchat = app[CHANNELS].get("webchat")
    if webchat is not None and hasattr(webchat, "message_rate"):
        webchat.message_rate = UNLIMITED_RATE
    await serve_until_stopped(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--retriever", default="stub", help="stub, or an embedder kind")
    parser.add_argument("--kb", type=Path, default=DEFAULT_KB)
    parser.add_argument("--index-dir", type=Path, default=None, help="default: <data-dir>/index")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    event_loop.run(run(args.data_dir, args.retriever, args.kb, args.index_dir))


if __name__ == "__main__":
    main()
