"""Alerts: the rules that raise them (`rules`) and the refresh of communities, polarization
and coordination that feeds them (`watch`).
"""
