"""Review: the encrypted evidence vault and the case workflow moderators drive."""
