"""Parsl's ``parsl.usage_tracking``: Sprig sends no usage data; the levels exist for configs that name them."""
