"""Getting data in: reading agency exports, checking them, importing, duplicates, quality, the sample."""
