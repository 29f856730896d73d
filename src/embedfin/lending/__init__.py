"""Consumer lending inside checkout: products, APR, schedules, servicing, collections.

Importing the package registers its invariants with ``embedfin check``.
"""

from embedfin.lending import invariants as _invariants  # registers the invariants

del _invariants
