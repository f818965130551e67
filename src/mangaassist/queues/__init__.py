"""Durable queues with SQS semantics: the port and its backends."""
