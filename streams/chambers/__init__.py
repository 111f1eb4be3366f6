"""Echo chambers: communities of the interaction layers (`communities`, Leiden), their
polarization (`polarization`: RWC and segregation beyond chance) and both per layer (`echo`).
"""
