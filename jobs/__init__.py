"""Job specs, the ``cc-cleaner`` CLI and example jobs."""
