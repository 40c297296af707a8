"""Tickets and the operators' actions on them."""
