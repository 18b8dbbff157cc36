"""Airbyte source for 8x8 Work Analytics and contact-center call detail records."""

from source_8x8_cdr.fastpath.startup import read_attribute_docs_faster

read_attribute_docs_faster()  # before anything imports airbyte_cdk: see fastpath/startup.py
