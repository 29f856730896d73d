"""The ecosystem simulator: agents on a virtual clock driving the real service layer."""
