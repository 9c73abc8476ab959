"""Reliability suites: fault injection, hostile input/responses/settings, credential leaks."""
