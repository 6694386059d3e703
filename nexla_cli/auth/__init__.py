"""Session logic: signing in, renewal, service keys, environments, hand-off."""
