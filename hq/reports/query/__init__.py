"""Reading the report tables for pages and exports: windows in scope, summed
metrics, figures by level, window usage, event counts, the rows behind a
figure, queue peaks, and what a report says about its own completeness.
"""
