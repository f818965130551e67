"""The catalog: loading, Japanese-aware search, the service that keeps the index fresh."""
