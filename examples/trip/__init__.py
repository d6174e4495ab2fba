"""A trip-booking saga with a parallel group and a compensation that can fail: the README's
example of the unwind record."""
