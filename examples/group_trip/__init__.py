"""A multi-passenger trip: per-passenger seats, hotel and car branches, optional insurance,
a fraud-review callback."""
