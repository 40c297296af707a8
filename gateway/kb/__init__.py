"""Knowledge-base services that need the core: the admin's edits and re-index,
agent assist, KB gaps, drafts from resolved tickets, containment of a topic."""
