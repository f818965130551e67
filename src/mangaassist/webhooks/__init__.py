"""Webhooks: Standard Webhooks signatures, the SSRF guard and outbound signed delivery."""
