"""Strongroom: personal encrypted vaults with sharing by public key in the age format."""

__version__ = "0.1.0"
