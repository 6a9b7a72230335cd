"""What managers enter for scoring: monthly inputs per staff member (one at a
time or imported) and versions of the scoring rules.
"""
