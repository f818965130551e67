"""Fake model servers (Bedrock runtime, OpenAI-compatible) with fault injection."""
