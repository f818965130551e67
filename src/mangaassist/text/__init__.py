"""Japanese-aware text handling: normalization, folding and search tokens."""
