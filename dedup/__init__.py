"""Document- and string-level deduplication stages.

Importing this package registers both stage kinds (``pipeline.job``)."""

from cc_cleaner.dedup import docs, strings  # noqa: F401
