"""What the knowledge-base commands need to know, as one small value.

The library takes plain values, never an application's settings object: the
gateway builds a :class:`KBConfig` from its ``[kb]`` section
(``gateway.kb.commands.kb_config``), a script or a test builds one directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb_index.embedder import Embedder, make_embedder, make_term_encoder


@dataclass(frozen=True, slots=True)
class KBConfig:
    source_dir: str | Path  # the KB sources (Markdown, CSV, JSON lines, text, HTML)
    index_dir: Path  # where index versions are built and CURRENT names the live one
    embedder: str = "e5"  # a kind :func:`kb_index.embedder.make_embedder` knows
    model: str = ""
    threads: int = 2
    term_bridge: str = "off"  # the word encoder of the cross-language term bridge, or "off"

    def make_embedder(self) -> Embedder:
        return make_embedder(self.embedder, self.model, self.threads)

    def make_term_encoder(self) -> Embedder | None:
        return make_term_encoder(self.term_bridge)
