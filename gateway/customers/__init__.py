"""Customers: identities, merges, and GDPR export and erasure across every room's tables."""

from gateway.customers.parts import CustomerDataPart, CustomerScope, parts, register, unregister
from gateway.customers.service import (
    add_identity,
    customer_detail,
    erase_customer,
    export_customer,
    find_customers,
    merge_customers,
)

__all__ = [
    "CustomerDataPart",
    "CustomerScope",
    "add_identity",
    "customer_detail",
    "erase_customer",
    "export_customer",
    "find_customers",
    "merge_customers",
    "parts",
    "register",
    "unregister",
]
