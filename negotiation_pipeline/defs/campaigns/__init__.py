"""The campaigns feature in Dagster: the ClickUp intake sensor, the campaign partitions, the
campaign, roster-join and CPM flexibility assets with their checks, and the campaign jobs.
"""
