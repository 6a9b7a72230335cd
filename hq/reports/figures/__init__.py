"""Pure figure and scoring logic, no database: local days and rollup periods,
handling-time histograms, the figures from summed metrics, scores and grades.
"""
