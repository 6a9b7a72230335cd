"""Helpers for tests of HQ: a running HQ, its API and pages, users, scopes, alerts, reports."""
