"""Simulated influencers (personas and standard negotiation tactics with hidden reservation
prices) playing against the real engine, and the strategy report `simulate` prints.
"""
