"""Model port and its adapters: the offline responder today; Bedrock and OpenAI-compatible next."""
