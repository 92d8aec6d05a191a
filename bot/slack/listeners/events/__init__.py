"""Events API listeners."""
