"""Access control: API keys (prefix plus hashed secret), usage plans, rate limits and quotas.

Everything here is a building block with no I/O of its own except the limiter's storage; the API
middleware, settings and the SQL key store wire it in.
"""
