"""Where things are, for tests in any folder below tests/ (tests/conftest.py puts tests/ on sys.path)."""
import os

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
