"""Reading an influencer's reply the way a person does: quote and signature removal, money
mentions, intent with its precedence rules, questions, absences and their confidence.
"""
