"""The chat pipeline: validate -> cache -> session -> plan -> model -> persist -> events."""
