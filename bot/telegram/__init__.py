"""The Telegram edge: the application (composition root), handlers, sending, the webhook
server, flood limits and resilience. The only layer that imports `telegram`."""
