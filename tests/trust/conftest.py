"""Fixtures of the PKI tests (tests/trust/pki_fixtures.py); a module's own fixture of the same
name takes precedence."""

from tests.trust.pki_fixtures import module_pki, pki

__all__ = ["module_pki", "pki"]
