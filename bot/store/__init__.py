"""What the bot keeps: curator feedback in SQLite, under keyed hashes, and the curator's report."""
