"""Data files shipped with the app (sample texts, starter data sets)."""
