"""One negotiation, pure: its record and state machine, package pricing and valuation, the
concession strategy, the decisions and emails it produces, the gate every email passes, and
the human hand-offs (escalation, approval, resolution).
"""
