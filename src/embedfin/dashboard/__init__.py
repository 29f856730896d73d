"""The live dashboard (operator, merchant and storefront pages) served by the API app."""
