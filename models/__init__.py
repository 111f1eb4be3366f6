"""Immutable records: the tweet event, metric and alert records, and the wire-format parsers."""
