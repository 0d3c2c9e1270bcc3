#!/usr/bin/env python
"""Django's manage.py, for those who expect it; `egov` does the same."""

import sys

from egov.cli import main

if __name__ == "__main__":
    main(sys.argv)
