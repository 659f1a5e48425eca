"""The negotiations feature in Dagster: the opening, advance, follow-up and resolution jobs, the
inbox and failure sensors, and the snapshot, conversation and report assets.
"""
