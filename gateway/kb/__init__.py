"""Knowledge-base services that need the core: the admin's edits and re-index,
agent assist, KB gaps, drafts from resolved tickets, containment of a topic, and the
``guichet kb`` commands (``eval`` and ``tune`` measure the bot's own decision)."""
