"""Consumer lending inside checkout: products, APR, schedules, servicing, collections."""
