"""The pure analytics core: event-time windows, graphs and metrics. No framework, no I/O, no clock."""
