"""Credit from commerce data: features, scorecard and challenger models, decisions."""
