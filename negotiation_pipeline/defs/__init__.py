"""The Dagster layer: assets, checks, jobs, sensors and resource classes (bound in
`negotiation_pipeline/definitions.py`)."""
