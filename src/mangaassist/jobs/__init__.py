"""Job kinds and their handlers: batch analysis, its completion callbacks, backpressure."""
