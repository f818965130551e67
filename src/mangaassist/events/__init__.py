"""Events: the envelope and the publisher port (the full bus with rules comes later)."""
