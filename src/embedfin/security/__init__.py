"""Security primitives: field encryption, hash-chained audit log, masking."""
