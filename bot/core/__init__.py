"""The core: knowledge, text analysis, matching and replies as plain data.

A question goes in, a `Reply` comes out (`bot.core.pipeline`). Nothing here knows about
chats, Telegram or storage; the core imports only the core.
"""
