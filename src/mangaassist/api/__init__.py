"""The HTTP API: app factory, error envelope, middleware and thin routes."""
