"""The `resonance` command line: Faust's own (`worker`, ...) plus the commands in this package."""
