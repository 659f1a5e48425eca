"""What every Dagster feature shares: the resources (by role), the business-store IO manager,
the business-rules resource and the run tags that keep store writers apart.
"""
