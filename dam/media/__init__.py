"""Pure functions over one media file. No Ray, no storage: easy to test, reused by every stage."""
