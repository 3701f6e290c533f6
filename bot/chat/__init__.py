"""The interaction layer: everything about a conversation, above the pure core.

The command table, buttons and deep links, language precedence, the unanswered rule and
votes live here once; the console and the Telegram handlers are thin edges on top of it.
"""
