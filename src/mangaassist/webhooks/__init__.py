"""Webhooks: signatures, the SSRF guard, outbound signed delivery, and inbound deliveries
(verified, processed once per idempotency key, dispatched to their handlers)."""
