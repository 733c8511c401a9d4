"""Filter and transform steps, one module per family.

Importing this package registers every step with :mod:`cc_cleaner.pipeline.step`.
"""

from cc_cleaner.filters import (  # noqa: F401
    blocklist,
    c4,
    decontaminate,
    extract,
    fineweb,
    gopher,
    language,
    pii,
    quality_model,
    refinedweb,
    rights,
    robots,
)
