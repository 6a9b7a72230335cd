"""Clips on HQ's own disk: tus uploads, finished clips, ``hq copy``'s import.

Also the HTTP byte ranges every clip download serves, whichever store.
"""
