"""The OpenAI Responses API over the chat path: input items ↔ chat messages, Response objects, stored answers."""
