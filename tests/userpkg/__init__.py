"""A user's own package of steps, as a data team would write it (used by tests/test_user_steps.py)."""
