"""The message flow: inbox accept, transactions, jobs, router, bot policy, outbox, event bus."""
