"""French/English detection and text folding, as the gateway uses them.

The functions live in :mod:`kb_index.language` (the retriever folds and detects
with the same rules as the bot); this module is the gateway's name for them.
"""

from kb_index.language import SUPPORTED, detect, fold

__all__ = ["SUPPORTED", "detect", "fold"]
