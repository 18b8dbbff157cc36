"""Airbyte source for 8x8 Work Analytics and contact-center call detail records."""
