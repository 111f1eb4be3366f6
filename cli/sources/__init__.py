"""Live sources: connectors that read a social network and send its events to the input topic."""
