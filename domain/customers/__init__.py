"""Customer profiles: identity, contacts, segment, region, owner, value and consent."""
