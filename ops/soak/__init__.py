"""The long variants of the reliability tests."""
