from tests.impact.support import unit_costs  # noqa: F401  (fixture)
