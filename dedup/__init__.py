"""Document- and string-level deduplication stages."""
