"""The campaigns feature in Dagster: the ClickUp intake sensor, the campaign partitions, and the
campaign, roster-join and CPM flexibility assets with their checks.
"""
