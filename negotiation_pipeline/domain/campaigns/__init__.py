"""Campaigns as the domain sees them: the validated campaign model, the influencer roster, the
CPM flexibility tables and tracker, and the campaign report.
"""
